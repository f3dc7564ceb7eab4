"""`python -m notification`: validate settings from the environment and serve on PORT (8096)."""

from notification.settings import Settings
from servicekit import serve


def main() -> None:
    serve(Settings, "notification.app:create_app", prog="notification")


if __name__ == "__main__":
    main()
