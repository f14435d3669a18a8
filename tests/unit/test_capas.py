"""The layers and the acyclic domains of pyproject.toml's import-linter contracts hold (see docs/desarrollo.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RAIZ = Path(__file__).resolve().parents[2]


def test_lint_imports_respeta_las_capas() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=RAIZ, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (
        "Un import rompe las capas (dominio que importa la API o el núcleo de composición, núcleo que importa un "
        "dominio, o un ciclo nuevo entre dominios). Mueve el código a la capa correcta o inyéctalo desde "
        "enlace.nucleo:\n" + r.stdout[-4000:]
    )
