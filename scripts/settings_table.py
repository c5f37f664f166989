"""Write the README's settings table again from the settings' own definitions (archiver/settings_doc.py).

    python scripts/settings_table.py          # rewrites README.md between its two markers
    python scripts/settings_table.py --check  # exit 1 when the README's table is not what it would write
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.settings_doc import readme_with_table  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    made = readme_with_table(text)
    if "--check" in sys.argv[1:]:
        return 0 if made == text else 1
    README.write_text(made, encoding="utf-8")
    print(f"wrote the settings table of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
