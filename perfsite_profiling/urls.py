from __future__ import annotations

from django.urls import path

from perfsite_profiling import views

app_name = "profiling"
urlpatterns = [
    path("", views.index, name="index"),
    path("sql/", views.sql_summary, name="sql"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile"),
    path("profiles/<int:pk>.prof", views.profile_download, name="download"),
    path(
        "profiles/<int:pk>.speedscope.json",
        views.profile_speedscope,
        name="speedscope",
    ),
    path("clear/", views.clear, name="clear"),
]
