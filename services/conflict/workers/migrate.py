"""Brings the conflict database to the newest schema: python -m services.conflict.workers.migrate"""
from services.conflict.bootstrap import MIGRATIONS
from shared.config import Settings
from shared.db import upgrade_to_head


def main() -> None:
    upgrade_to_head(Settings.from_env("conflict").database_url, MIGRATIONS)


if __name__ == "__main__":
    main()
