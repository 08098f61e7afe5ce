"""Brings the conflict service database to the newest schema: python -m services.conflict.workers.migrate"""
from services.conflict.bootstrap import MIGRATIONS
from services.conflict.settings import ConflictSettings
from shared.workers import migrate_main


def main() -> None:
    migrate_main(ConflictSettings, MIGRATIONS)


if __name__ == "__main__":
    main()
