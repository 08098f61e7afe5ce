"""Brings the deals database to the newest schema: python -m services.deals.workers.migrate"""
from services.deals.bootstrap import MIGRATIONS
from services.deals.settings import DealsSettings
from shared.workers import migrate_main


def main() -> None:
    migrate_main(DealsSettings, MIGRATIONS)


if __name__ == "__main__":
    main()
