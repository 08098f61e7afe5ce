"""Brings the catalog database to the newest schema: python -m services.catalog.workers.migrate"""
from services.catalog.bootstrap import MIGRATIONS
from shared.config import Settings
from shared.db import upgrade_to_head


def main() -> None:
    upgrade_to_head(Settings.from_env("catalog").database_url, MIGRATIONS)


if __name__ == "__main__":
    main()
