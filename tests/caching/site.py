"""A URLconf for the response cache tests: the site's URLs plus views that
write a session, vary on the language, reflect the host or render a template."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from caching.deps import row
from caching.http import cache_response
from perfsite.models import Post
from perfsite.urls import urlpatterns as site_urlpatterns

renders: list[str] = []  # one name per view run, so tests see hits


@require_safe
@cache_response(60, groups=["t-session"])
def writes_session(request: HttpRequest) -> HttpResponse:
    renders.append("session")
    request.session["seen"] = True
    request.session.save()
    return HttpResponse(f"your session is {request.session.session_key}")


@cache_response(60, groups=["t-language"])
def language(request: HttpRequest) -> HttpResponse:
    renders.append("language")
    return HttpResponse(f"language={request.LANGUAGE_CODE}")


@require_safe
@cache_response(60, groups=["t-host"], query=["page"])
def host(request: HttpRequest, pk: int) -> HttpResponse:
    renders.append("host")
    body = f"{request.get_host()} {pk} {dict(request.GET.lists())} " + "x" * 600
    return HttpResponse(body, content_type="text/plain")


@require_safe
@cache_response(60, groups=["t-page"])
def page(request: HttpRequest) -> HttpResponse:
    renders.append("page")
    return render(request, "t_page.html")


@require_safe
@cache_response(60, groups=["t-user"], per_user=True)
def mine(request: HttpRequest) -> HttpResponse:
    renders.append("mine")
    return HttpResponse(f"hello {request.user.username}")


@require_safe
@cache_response(60, depends_on=[row(Post, "pk")])
def post_title(request: HttpRequest, pk: int) -> HttpResponse:
    renders.append("row")
    post = Post.objects.filter(pk=pk).first()
    return HttpResponse(post.title if post else "none", content_type="text/plain")


urlpatterns = [
    path("t/row/<int:pk>/", post_title),
    path("t/mine/", mine),
    path("t/session/", writes_session),
    path("t/language/", language),
    path("t/host/<int:pk>/", host),
    path("t/page/", page),
    *site_urlpatterns,
]
