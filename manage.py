#!/usr/bin/env python
"""Django's command-line utility for the perfsite demo."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfsite.settings")
    if sys.argv[1:2] == ["runserver"]:
        # The development server is for development: DEBUG on unless told otherwise.
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
