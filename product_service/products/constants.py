"""Fixed vocabularies of the catalogue and of stock reservations, kept in one place."""

from django.db import models


class Category(models.TextChoices):
    ELECTRONICS = "Electronics"
    CLOTHING = "Clothing"
    BOOKS = "Books"
    HOME_AND_KITCHEN = "Home & Kitchen"
    BEAUTY = "Beauty"
    SPORTS = "Sports"
    OTHER = "Other"


class ReservationState(models.TextChoices):
    # Written before any stock moves; a crash leaves it for the expiry sweep to undo.
    PENDING = "pending"
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


# States in which a reservation no longer holds or owns stock.
INACTIVE_STATES = (ReservationState.RELEASED, ReservationState.EXPIRED)

MIN_RATING = 1
MAX_RATING = 5
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
# Every client string has a bound, so no account can make the catalogue's answers huge.
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_IMAGE_URL_LENGTH = 2048
MAX_REVIEW_TITLE_LENGTH = 200
MAX_REVIEW_DESCRIPTION_LENGTH = 5000
