"""HTTP views: validate the input, call one service or selector, render the output."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecommerce_common import api
from ecommerce_common.api import errors
from ecommerce_common.pagination import PageNumberPagination
from ecommerce_common.throttling import ProductCreateThrottle, ReviewCreateThrottle
from products import catalogue_cache, selectors, services, stock, stock_audit
from products.ids import parse_object_id
from products.models import Product
from products.pagination import CachedCountPagination
from products.permissions import ReadOnlyOrAuthenticated, can_edit
from products.serializers import (
    ORDER_ID_PATTERN,
    ExpiredCountSerializer,
    ProductInputSerializer,
    ProductListQuerySerializer,
    ProductQuantityCommitSerializer,
    ProductQuantitySerializer,
    ProductSerializer,
    ReservationInputSerializer,
    ReservationSerializer,
    ReservationStatusSerializer,
    ReviewInputSerializer,
    ReviewSerializer,
    StockAuditSerializer,
    parse_legacy_filter,
    product_quantity_representation,
    product_representation,
)

# The old list answers a plain array; this bounds it in products and in bytes
# (settings.PRODUCT_LIST_LEGACY_MAX_BYTES), and says when it was cut.
LEGACY_LIST_LIMIT = 1000
TRUNCATED_HEADER = "X-Results-Truncated"

# The public reads that products.catalogue_cache serves, as the API documents them.
CATALOGUE_CACHE_NOTE = (
    "Public and the same for every caller: the 200 answer is cached by each server process "
    "for `CATALOGUE_CACHE_SECONDS` (30 s unless configured; the `max-age` of `Cache-Control`). "
    "A change made through the process that answers shows at once, one made through another "
    "process or pod within that time. `quantity` may be as old: it is for display, orders "
    "reserve stock atomically and never rely on it."
)
CATALOGUE_CACHE_HEADERS = [
    OpenApiParameter(
        "X-Cache",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`hit` (served from the cache) or `miss`; absent when the cache is off.",
    ),
    OpenApiParameter(
        "Cache-Control",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`public, max-age=<CATALOGUE_CACHE_SECONDS>` (with `Age` on a hit).",
    ),
]


def _product_or_404(product_id: str) -> Product:
    product = selectors.product_get(product_id=product_id)
    if product is None:
        raise NotFound("No such product.")
    return product


def _create_product(request: Request) -> Response:
    serializer = ProductInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    product = services.product_create(seller=str(request.user.id), **serializer.validated_data)
    return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


def legacy_list_within(
    products: Iterable[dict[str, Any]], *, max_bytes: int
) -> tuple[list[dict], bool]:
    """The representations of the products (raw documents), in order, while the JSON array
    stays within ``max_bytes``; and whether some were left out."""
    renderer = JSONRenderer()
    items: list[dict] = []
    size = 2  # []
    for product in products:
        item = product_representation(product)
        size += len(renderer.render(item)) + 1  # and a comma
        if size > max_bytes:
            return items, True
        items.append(item)
    return items, False


class ProductListView(APIView):
    """``GET /product/``: the public catalogue; ``POST /product/``: list a product for sale."""

    permission_classes = [ReadOnlyOrAuthenticated]
    throttle_classes = [ProductCreateThrottle]
    # Read by the schema generator, which documents the page envelope and page parameters.
    pagination_class = PageNumberPagination

    @extend_schema(
        description=CATALOGUE_CACHE_NOTE,
        parameters=[ProductListQuerySerializer, *CATALOGUE_CACHE_HEADERS],
        responses={200: ProductSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        query = ProductListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = selectors.ProductFilters(
            category=data.get("category"),
            seller=data.get("seller"),
            tags=data.get("tags") or [],
            min_price=data.get("minPrice"),
            max_price=data.get("maxPrice"),
            search=data.get("search"),
            ordering=data["ordering"],
        )
        # Every ordering and page of one filter has the same total.
        paginator = CachedCountPagination(count_scope=f"products {replace(filters, ordering='')!r}")
        page = paginator.paginate_queryset(
            selectors.product_list(filters=filters), request, view=self
        )
        return paginator.get_paginated_response(product_representation.many(page))

    @extend_schema(
        request=ProductInputSerializer,
        responses={201: ProductSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        return _create_product(request)


class ProductCreateLegacyView(APIView):
    """``POST /product/create``: the old create call, same body and answer as ``POST /product/``."""

    throttle_classes = [ProductCreateThrottle]

    @extend_schema(
        request=ProductInputSerializer,
        responses={201: ProductSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        return _create_product(request)


class ProductListLegacyView(APIView):
    """``GET /product/list?filter=<JSON>``: the old list call, answering a plain array."""

    permission_classes = [AllowAny]

    @extend_schema(
        description=CATALOGUE_CACHE_NOTE,
        parameters=[
            OpenApiParameter("filter", str, description='e.g. {"category": "Books"}'),
            OpenApiParameter(
                TRUNCATED_HEADER,
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description=(
                    f"`true` when the answer was cut: it holds at most {LEGACY_LIST_LIMIT} "
                    "products and at most `PRODUCT_LIST_LEGACY_MAX_BYTES` of JSON (2 MiB "
                    "unless configured). Use `GET /product/` (paginated) for more."
                ),
            ),
            *CATALOGUE_CACHE_HEADERS,
        ],
        responses={200: ProductSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        parsed = parse_legacy_filter(request.query_params.get("filter"))
        products = selectors.product_list_legacy(
            category=parsed.get("category"), title=parsed.get("title"), product_id=parsed.get("id")
        )[: LEGACY_LIST_LIMIT + 1]
        items, truncated = legacy_list_within(
            products, max_bytes=settings.PRODUCT_LIST_LEGACY_MAX_BYTES
        )
        truncated = truncated or len(items) > LEGACY_LIST_LIMIT
        return Response(
            items[:LEGACY_LIST_LIMIT], headers={TRUNCATED_HEADER: str(truncated).lower()}
        )


class ProductDetailView(APIView):
    """``GET|PATCH|PUT|DELETE /product/{id}``: edits only by the seller or an admin."""

    permission_classes = [ReadOnlyOrAuthenticated]

    def _editable(self, request: Request, product_id: str) -> Product:
        product = _product_or_404(product_id)
        if not can_edit(request.user, product):
            # Not yours: as if it did not exist.
            raise NotFound("No such product.")
        return product

    @extend_schema(
        description=CATALOGUE_CACHE_NOTE,
        parameters=CATALOGUE_CACHE_HEADERS,
        responses={200: ProductSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, product_id: str) -> Response:
        document = selectors.product_document(product_id=product_id)
        if document is None:
            raise NotFound("No such product.")
        return Response(product_representation(document))

    @extend_schema(
        request=ProductInputSerializer,
        responses={200: ProductSerializer, **errors(400, 401, 404, 409)},
    )
    def put(self, request: Request, product_id: str) -> Response:
        return self._update(request, product_id, partial=False)

    @extend_schema(
        request=ProductInputSerializer,
        responses={200: ProductSerializer, **errors(400, 401, 404, 409)},
    )
    def patch(self, request: Request, product_id: str) -> Response:
        return self._update(request, product_id, partial=True)

    def _update(self, request: Request, product_id: str, *, partial: bool) -> Response:
        product = self._editable(request, product_id)
        serializer = ProductInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        # A partial body validates to the given fields only (no defaults), so this is the change.
        product = services.product_update(product=product, changes=dict(serializer.validated_data))
        return Response(ProductSerializer(product).data)

    @extend_schema(responses={204: None, **errors(401, 404, 409)})
    def delete(self, request: Request, product_id: str) -> Response:
        services.product_delete(product=self._editable(request, product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductQuantityView(APIView):
    """``GET /product/{id}/quantity``: the stock available to sell."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProductQuantitySerializer, **errors(401, 404)})
    def get(self, request: Request, product_id: str) -> Response:
        document = selectors.product_document(product_id=product_id, fields=("quantity",))
        if document is None:
            raise NotFound("No such product.")
        return Response(product_quantity_representation(document))


class ProductReviewsView(APIView):
    """``GET /product/{id}/reviews`` (public) and ``POST`` (one review per user per product)."""

    permission_classes = [ReadOnlyOrAuthenticated]
    pagination_class = PageNumberPagination
    throttle_classes = [ReviewCreateThrottle]

    @extend_schema(
        description=CATALOGUE_CACHE_NOTE,
        parameters=CATALOGUE_CACHE_HEADERS,
        responses={200: ReviewSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = _product_or_404(product_id)
        paginator = CachedCountPagination(count_scope=f"reviews {product.pk}")
        page = paginator.paginate_queryset(
            selectors.review_list(product=product), request, view=self
        )
        return paginator.get_paginated_response(ReviewSerializer(page, many=True).data)

    @extend_schema(
        description=(
            "The caller's one review of the product: 409 `duplicate_review` for a second one, "
            "403 `own_product_review` when the caller sells the product."
        ),
        request=ReviewInputSerializer,
        responses={201: ReviewSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, product_id: str) -> Response:
        product = _product_or_404(product_id)
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_create(
            product=product, user_id=str(request.user.id), **serializer.validated_data
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# --- internal: stock ----------------------------------------------------------------------------


# The stock answers' serializers keep no state of a request: one instance per process renders
# every answer (building one per response, every field constructed and bound, cost about ten
# times the rendering; bench/FINDINGS.md).
_RESERVATION = ReservationSerializer()
_RESERVATION_STATUS = ReservationStatusSerializer()


class InternalView(api.InternalView):
    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        # Stock moves change only the counts a cached catalogue answer shows, which may be up
        # to the cache's TTL old anyway; invalidating on every order would empty the cache.
        response = super().finalize_response(request, response, *args, **kwargs)
        return catalogue_cache.mark_unchanged(response)

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        order_id = kwargs.get("order_id")
        # An order id no reservation could have is simply not found (before any query).
        if order_id is not None and not ORDER_ID_PATTERN.match(str(order_id)):
            raise NotFound("No reservation for this order.")


class ReservationCreateView(InternalView):
    """``POST /internal/reservations``: reserve every item of an order, or none."""

    @extend_schema(
        request=ReservationInputSerializer,
        responses={
            201: ReservationSerializer,
            200: ReservationSerializer,
            **errors(400, 401, 403, 409),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reservation, created = stock.reservation_create(
            order_id=data["orderId"],
            lines=[stock.StockLine(item["productId"], item["quantity"]) for item in data["items"]],
            ttl_seconds=data.get("ttlSeconds") or settings.RESERVATION_DEFAULT_TTL_SECONDS,
        )
        return Response(
            _RESERVATION.to_representation(reservation),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReservationDetailView(InternalView):
    """``GET /internal/reservations/{orderId}``: the order's reservation, for audits and support."""

    @extend_schema(responses={200: ReservationSerializer, **errors(401, 403, 404)})
    def get(self, request: Request, order_id: str) -> Response:
        reservation = selectors.reservation_get(order_id=order_id)
        if reservation is None:
            raise NotFound("No reservation for this order.")
        return Response(_RESERVATION.to_representation(reservation))


class ReservationCommitView(InternalView):
    """``POST /internal/reservations/{orderId}/commit``: reserved stock becomes sold."""

    @extend_schema(
        request=None, responses={200: ReservationStatusSerializer, **errors(401, 403, 404, 409)}
    )
    def post(self, request: Request, order_id: str) -> Response:
        reservation = stock.reservation_commit(order_id=order_id)
        return Response(_RESERVATION_STATUS.to_representation(reservation))


class ReservationReleaseView(InternalView):
    """``POST /internal/reservations/{orderId}/release``: the order's stock returns to sale."""

    @extend_schema(
        request=None, responses={200: ReservationStatusSerializer, **errors(401, 403, 404, 409)}
    )
    def post(self, request: Request, order_id: str) -> Response:
        reservation = stock.reservation_release(order_id=order_id)
        return Response(_RESERVATION_STATUS.to_representation(reservation))


class ReservationExpireView(InternalView):
    """``POST /internal/reservations/expire``: release reservations past their lifetime."""

    @extend_schema(request=None, responses={200: ExpiredCountSerializer, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        return Response({"released": stock.reservations_expire()})


class StockRepairView(InternalView):
    """``POST /internal/stock/repair``: mend stock left out by interrupted steps (the periodic
    repair; ``manage.py stock_audit`` prints the same report)."""

    @extend_schema(request=None, responses={200: StockAuditSerializer, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        return Response(stock_audit.stock_audit(repair=True).as_dict())


class ProductQuantityCommitView(InternalView):
    """``PUT /internal/product/{id}/quantity`` ``{quantity, orderId}``: the old single commit."""

    @extend_schema(
        request=ProductQuantityCommitSerializer,
        responses={200: ReservationSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def put(self, request: Request, product_id: str) -> Response:
        object_id = parse_object_id(product_id)
        if object_id is None:
            raise NotFound("No such product.")
        serializer = ProductQuantityCommitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation = stock.product_quantity_commit(
            product_id=object_id,
            order_id=serializer.validated_data["orderId"],
            quantity=serializer.validated_data["quantity"],
        )
        return Response(_RESERVATION.to_representation(reservation))
