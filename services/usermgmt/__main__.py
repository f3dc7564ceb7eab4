"""`python -m usermgmt`: validate settings from the environment and serve on PORT (8095)."""

from servicekit import serve
from usermgmt.settings import Settings


def main() -> None:
    serve(Settings, "usermgmt.app:create_app", prog="usermgmt")


if __name__ == "__main__":
    main()
