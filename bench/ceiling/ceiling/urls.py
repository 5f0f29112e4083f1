from django.http import JsonResponse
from django.urls import path

BODY = {"status": "ok", "service": "ceiling"}


def constant(request):
    return JsonResponse(BODY)


urlpatterns = [path("ceiling", constant), path("health", constant)]
