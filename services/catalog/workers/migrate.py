"""Brings the catalog database to the newest schema: python -m services.catalog.workers.migrate"""
from services.catalog.bootstrap import MIGRATIONS
from services.catalog.settings import CatalogSettings
from shared.workers import migrate_main


def main() -> None:
    migrate_main(CatalogSettings, MIGRATIONS)


if __name__ == "__main__":
    main()
