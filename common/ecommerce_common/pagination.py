"""Page-number pagination answering ``{count, next, previous, results}``."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "pageSize"
    max_page_size = 100
