from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: constant cost at any depth, stable under inserts."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
