"""Brings the deals database to the newest schema: python -m services.deals.workers.migrate"""
from services.deals.bootstrap import MIGRATIONS
from shared.config import Settings
from shared.db import upgrade_to_head


def main() -> None:
    upgrade_to_head(Settings.from_env("deals").database_url, MIGRATIONS)


if __name__ == "__main__":
    main()
