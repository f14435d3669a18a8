"""The shared examples of Mexican numbers and WhatsApp ids (the gateway's `node --test` reads the same file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from enlace.comun.telefonos import (
    Telefono,
    analizar_jid,
    canonico_mx,
    clave_telefono,
    digitos_para_emparejar,
    jid_mx,
    jids_candidatos,
    normalizar,
)

VECTORES: dict[str, Any] = json.loads((Path(__file__).parents[1] / "vectores" / "numeros.json").read_text("utf-8"))


@pytest.mark.parametrize("v", VECTORES["jid"], ids=lambda v: repr(v["entrada"]))
def test_analizar_jid(v: dict[str, Any]) -> None:
    info = analizar_jid(v["entrada"])
    assert (info.tipo.value, info.usuario, info.telefono) == (v["tipo"], v["usuario"], v["telefono"])


@pytest.mark.parametrize("v", VECTORES["candidatos"], ids=lambda v: v["telefono"])
def test_candidatos(v: dict[str, Any]) -> None:
    assert jids_candidatos(v["telefono"]) == v["jids"]


@pytest.mark.parametrize("v", VECTORES["clave"], ids=lambda v: v["entrada"])
def test_clave(v: dict[str, Any]) -> None:
    assert clave_telefono(v["entrada"]) == v["clave"]


@pytest.mark.parametrize("v", VECTORES["canonico_mx"], ids=lambda v: v["entrada"])
def test_canonico_mx(v: dict[str, Any]) -> None:
    assert canonico_mx(v["entrada"]) == v["telefono"]


@pytest.mark.parametrize("v", VECTORES["emparejar"], ids=lambda v: v["entrada"])
def test_emparejar(v: dict[str, Any]) -> None:
    assert digitos_para_emparejar(v["entrada"]) == v["digitos"]


@pytest.mark.parametrize("v", VECTORES["jid_mx"], ids=lambda v: v["jid"])
def test_jid_mx(v: dict[str, Any]) -> None:
    assert jid_mx(v["telefono"], v["usa_521"]) == v["jid"]


def test_el_normalizador_de_carteras_coincide_con_los_ids_validos() -> None:
    """A valid Mexican phone id maps to the same canonical number a person would type."""
    for v in VECTORES["jid"]:
        if v["telefono"] and v["telefono"].startswith("+52"):
            tecleado = normalizar(v["telefono"])
            assert isinstance(tecleado, Telefono) and tecleado.canonico == v["telefono"]
