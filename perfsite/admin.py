from __future__ import annotations

from django.contrib import admin

from perfsite.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "author", "views", "published_at"]
    list_select_related = ["author"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["author"]
    date_hierarchy = "published_at"
