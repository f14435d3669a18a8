"""Measure the opt-out classifier per class on the held-out replies (tests/unit/datos/bajas_validacion.tsv)."""

from __future__ import annotations

import sys
from pathlib import Path

from enlace.cumplimiento.bajas import ClaseRespuesta, clasificar

RAIZ = Path(__file__).resolve().parent.parent
DATOS = RAIZ / "tests" / "unit" / "datos"
VALIDACION = (DATOS / "bajas_validacion.tsv", DATOS / "bajas_validacion_2.tsv")


def leer(ruta: Path) -> list[tuple[ClaseRespuesta, str]]:
    filas = []
    for linea in ruta.read_text(encoding="utf-8").splitlines():
        if not linea.strip() or linea.startswith("#"):
            continue
        clase, texto = linea.split("\t", 1)
        filas.append((ClaseRespuesta(clase), texto))
    return filas


def medir(filas: list[tuple[ClaseRespuesta, str]]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per-class precision/recall and the list of misclassified replies."""
    errores = []
    metricas: dict[str, dict[str, float]] = {}
    predichas = [(esperada, clasificar(texto), texto) for esperada, texto in filas]
    for esperada, r, texto in predichas:
        if r.clase != esperada:
            errores.append(f"{esperada.value}->{r.clase.value} [{r.regla}] {texto!r}")
    for clase in ClaseRespuesta:
        vp = sum(1 for e, r, _ in predichas if e == clase and r.clase == clase)
        pred = sum(1 for _, r, _ in predichas if r.clase == clase)
        reales = sum(1 for e, _, _ in predichas if e == clase)
        metricas[clase.value] = {
            "n": reales,
            "precision": vp / pred if pred else 1.0,
            "recall": vp / reales if reales else 1.0,
        }
    return metricas, errores


def main() -> None:
    rutas = [Path(a) for a in sys.argv[1:]] or list(VALIDACION)
    metricas, errores = medir([fila for ruta in rutas for fila in leer(ruta)])
    for error in errores:
        print(error)
    partes = [
        f"{c}_n={m['n']} {c}_precision={m['precision']:.3f} {c}_recall={m['recall']:.3f}" for c, m in metricas.items()
    ]
    print("bench bajas_precision: " + " ".join(partes) + f" errores={len(errores)}")


if __name__ == "__main__":
    main()
