"""Catalogue pagination: the shared page envelope, with the total counted only when needed.

A page's ``count`` is a separate count query over the whole filter, as costly as the page
itself on a store that scans. Two things spare it. A page is read with one row more than it
shows: when that row is missing the page is the last one, and the total is the rows before
it plus the rows on it, with no count at all (most filtered lists fit one page). Otherwise
every page of one filter has the same total, so it is kept in the catalogue cache
(``catalogue_cache.count``: same lifetime, same invalidation by writes) and a filter is
counted once per ``CATALOGUE_CACHE_SECONDS``, not once per page.
"""

from __future__ import annotations

from functools import cached_property, partial
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

from ecommerce_common.pagination import PageNumberPagination
from products import catalogue_cache


class CachedCountPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count_scope: str, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.count_scope = count_scope

    @cached_property
    def count(self) -> int:
        return catalogue_cache.count(scope=self.count_scope, compute=self.object_list.count)

    def page(self, number: Any) -> Page:
        """``Paginator.page``: the same page and the same errors, the total counted last."""
        if self.orphans:
            raise ValueError("orphans are not supported")
        number = self._integer_from_1(number)
        bottom = (number - 1) * self.per_page
        rows = self.object_list[bottom : bottom + self.per_page + 1]
        if len(rows) <= self.per_page and (rows or number == 1):
            # The last page: nothing after it, so this is the total.
            self.__dict__["count"] = bottom + len(rows)
        elif not rows:
            # Past the end: the total is at most ``bottom``, so fewer pages than ``number``.
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows[: self.per_page], self.validate_number(number), self)

    def _integer_from_1(self, number: Any) -> int:
        """The checks of ``validate_number`` that need no total."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class CachedCountPagination(PageNumberPagination):
    """``{count, next, previous, results}`` pages whose ``count`` is cached under
    ``count_scope``: a string naming the filter, the same for every page and ordering of it."""

    def __init__(self, *, count_scope: str) -> None:
        self.django_paginator_class = partial(CachedCountPaginator, count_scope=count_scope)
