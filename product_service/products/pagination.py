"""Catalogue pagination: the shared page envelope, with the total counted once per filter.

A page's ``count`` is a separate count query over the whole filter, as costly as the page
itself on a store that scans. Every page of one filter has the same total, so it is kept
in the catalogue cache (``catalogue_cache.count``: same lifetime, same invalidation by
writes) and a filter is counted once per ``CATALOGUE_CACHE_SECONDS``, not once per page.
"""

from __future__ import annotations

from functools import cached_property, partial
from typing import Any

from django.core.paginator import Page, Paginator

from ecommerce_common.pagination import PageNumberPagination
from products import catalogue_cache
from products.documents import Found


class CachedCountPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count_scope: str, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.count_scope = count_scope

    @cached_property
    def count(self) -> int:
        return catalogue_cache.count(scope=self.count_scope, compute=self.object_list.count)

    def page(self, number: Any) -> Page:
        """The page; for a filtered list, counted and read in one query (``Found.count_and_slice``:
        one pass over the matches instead of two on SecantusDB)."""
        found = self.object_list
        if not (isinstance(found, Found) and found.query.filter) or "count" in self.__dict__:
            return super().page(number)
        try:
            first = (int(number) - 1) * self.per_page
        except (TypeError, ValueError):
            return super().page(number)  # refused as Django refuses it
        if first < 0:
            return super().page(number)
        total, rows = found.count_and_slice(first, first + self.per_page)
        self.count = catalogue_cache.count(scope=self.count_scope, compute=lambda: total)
        number = self.validate_number(number)
        return self._get_page(rows, number, self)


class CachedCountPagination(PageNumberPagination):
    """``{count, next, previous, results}`` pages whose ``count`` is cached under
    ``count_scope``: a string naming the filter, the same for every page and ordering of it."""

    def __init__(self, *, count_scope: str) -> None:
        self.django_paginator_class = partial(CachedCountPaginator, count_scope=count_scope)
