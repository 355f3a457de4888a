"""`python -m kubectl_war` runs the plugin."""

from kubectl_war.cli import main

if __name__ == "__main__":
    main()
