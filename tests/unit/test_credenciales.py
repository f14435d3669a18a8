"""Credential encryption (AES-256-GCM, key id per row, rotation) and the merge of engine deltas."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enlace.sesiones.cifrado import (
    Clave,
    CredencialesIlegibles,
    Llavero,
    clave_derivada,
    contexto_agente,
    fusionar_credenciales,
    generar_clave,
)
from enlace.settings import Entorno, ErrorDeConfiguracion, Settings

K1 = base64.b64encode(bytes(range(32))).decode()
K2 = base64.b64encode(bytes(range(32, 64))).decode()

json_valor = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda hijos: st.lists(hijos, max_size=4) | st.dictionaries(st.text(max_size=8), hijos, max_size=4),
    max_leaves=20,
)
estado_auth = st.fixed_dictionaries(
    {
        "creds": st.dictionaries(st.text(max_size=10), json_valor, max_size=5),
        "keys": st.dictionaries(
            st.sampled_from(["pre-key", "session", "sender-key", "app-state-sync-key", "lid-mapping"]),
            st.dictionaries(st.text(min_size=1, max_size=8), json_valor, min_size=1, max_size=4),
            max_size=3,
        ),
    }
)


def ajustes(**valores: object) -> Settings:
    return Settings(_env_file=None, **valores)  # type: ignore[call-arg]


@settings(max_examples=60, deadline=None)
@given(datos=estado_auth, agente=st.integers(1, 10**6))
def test_ida_y_vuelta_y_texto_cifrado(datos, agente):
    llavero = Llavero.desde_texto(f"k1:{K1}")
    clave_id, blob = llavero.cifrar(datos, contexto_agente(agente))
    assert clave_id == "k1"
    assert llavero.descifrar(clave_id, blob, contexto_agente(agente)) == datos
    claro = json.dumps(datos, separators=(",", ":"), ensure_ascii=False).encode()
    assert claro not in blob
    # A fresh nonce every time: the same state never gives the same bytes.
    assert llavero.cifrar(datos, contexto_agente(agente))[1] != blob


def test_rechaza_otro_agente_bytes_alterados_y_clave_desconocida():
    llavero = Llavero.desde_texto(f"k1:{K1}")
    datos = {"creds": {"me": {"id": "5215512345678:1@s.whatsapp.net"}}, "keys": {}}
    clave_id, blob = llavero.cifrar(datos, contexto_agente(1))
    with pytest.raises(CredencialesIlegibles):
        llavero.descifrar(clave_id, blob, contexto_agente(2))
    alterado = bytearray(blob)
    alterado[20] ^= 1
    with pytest.raises(CredencialesIlegibles):
        llavero.descifrar(clave_id, bytes(alterado), contexto_agente(1))
    with pytest.raises(CredencialesIlegibles, match="k9"):
        llavero.descifrar("k9", blob, contexto_agente(1))
    with pytest.raises(CredencialesIlegibles):
        llavero.descifrar(clave_id, blob[:20], contexto_agente(1))
    with pytest.raises(CredencialesIlegibles):
        Llavero.desde_texto(f"k1:{K2}").descifrar(clave_id, blob, contexto_agente(1))


def test_rotacion_la_primera_cifra_todas_descifran():
    viejo = Llavero.desde_texto(f"k1:{K1}")
    datos = {"creds": {"registered": True}, "keys": {"pre-key": {"1": "x"}}}
    clave_id, blob = viejo.cifrar(datos, contexto_agente(7))
    nuevo = Llavero.desde_texto(f"k2:{K2},k1:{K1}")
    assert nuevo.actual.id == "k2" and nuevo.ids == ["k2", "k1"]
    assert nuevo.necesita_rotar(clave_id) and not nuevo.necesita_rotar("k2")
    assert nuevo.descifrar(clave_id, blob, contexto_agente(7)) == datos
    clave_id2, blob2 = nuevo.recifrar(clave_id, blob, contexto_agente(7))
    assert clave_id2 == "k2"
    assert Llavero.desde_texto(f"k2:{K2}").descifrar("k2", blob2, contexto_agente(7)) == datos
    with pytest.raises(CredencialesIlegibles):
        Llavero.desde_texto(f"k2:{K2}").descifrar(clave_id, blob, contexto_agente(7))


@pytest.mark.parametrize(
    "texto",
    ["k1:no-es-base64!", f"k1:{base64.b64encode(b'corta').decode()}", f"k 1:{K1}", f"k1:{K1},k1:{K2}"],
)
def test_claves_mal_configuradas(texto):
    with pytest.raises(ErrorDeConfiguracion):
        Llavero.desde_texto(texto)


def test_pruebas_deriva_clave_y_produccion_la_exige():
    dev = Llavero.desde_settings(ajustes(entorno="pruebas", secret_key="una-clave-de-desarrollo"))
    assert dev.actual.id.startswith("dev-") and dev.actual == clave_derivada("una-clave-de-desarrollo")
    assert clave_derivada("otra").id != dev.actual.id
    # With real keys configured outside production, rows under the derived key stay readable (for rotation).
    mixto = Llavero.desde_settings(
        ajustes(entorno="pruebas", secret_key="una-clave-de-desarrollo", claves_credenciales=f"k1:{K1}")
    )
    assert mixto.actual.id == "k1" and dev.actual.id in mixto.ids
    prod = Llavero.desde_settings(
        Settings.model_construct(entorno=Entorno.produccion, secret_key="x" * 40, claves_credenciales=f"k1:{K1}")
    )
    assert prod.ids == ["k1"]
    with pytest.raises(ErrorDeConfiguracion):
        Llavero.desde_settings(
            Settings.model_construct(entorno=Entorno.produccion, secret_key="x" * 40, claves_credenciales="")
        )


def test_desarrollo_genera_una_clave_aleatoria_privada_y_la_conserva(tmp_path):
    uno, otro = tmp_path / "uno", tmp_path / "otro"
    llavero = Llavero.desde_settings(ajustes(entorno="desarrollo", secret_key="", directorio_datos=uno))
    archivo = uno / "clave-credenciales"
    assert archivo.stat().st_mode & 0o777 == 0o600
    assert llavero.actual.id.startswith("local-")
    # Never the key derived from the public development constant (it only still reads old rows).
    assert llavero.actual != clave_derivada(ajustes(secret_key="").secreto)
    assert Llavero.desde_settings(ajustes(entorno="desarrollo", directorio_datos=uno)).actual == llavero.actual
    assert Llavero.desde_settings(ajustes(entorno="desarrollo", directorio_datos=otro)).actual != llavero.actual
    archivo.chmod(0o644)
    Llavero.desde_settings(ajustes(entorno="desarrollo", directorio_datos=uno))
    assert archivo.stat().st_mode & 0o777 == 0o600


def test_clave_generada_sirve_y_no_se_imprime():
    texto = generar_clave()
    llavero = Llavero.desde_texto(f"nueva:{texto}")
    assert len(base64.b64decode(texto)) == 32
    assert texto not in repr(llavero.actual) and "material" not in repr(Clave("a", b"x" * 32))


def _modelo(deltas):
    creds: dict = {}
    keys: dict = {}
    for delta in deltas:
        if "creds" in delta:
            creds = delta["creds"]
        for tipo, valores in delta.get("keys", {}).items():
            for clave, valor in valores.items():
                if valor is None:
                    keys.pop((tipo, clave), None)
                else:
                    keys[(tipo, clave)] = valor
    return creds, keys


delta = st.fixed_dictionaries(
    {},
    optional={
        "creds": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        "keys": st.dictionaries(
            st.sampled_from(["pre-key", "session"]),
            st.dictionaries(st.sampled_from(["1", "2", "3"]), st.none() | st.integers(), max_size=3),
            max_size=2,
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(deltas=st.lists(delta, max_size=8))
def test_fusion_de_deltas_equivale_al_modelo(deltas):
    estado = None
    for d in deltas:
        antes = json.dumps(estado, sort_keys=True)
        nuevo = fusionar_credenciales(estado, d)
        assert json.dumps(estado, sort_keys=True) == antes  # the stored state is not mutated in place
        estado = nuevo
    creds, keys = _modelo(deltas)
    estado = estado or fusionar_credenciales(None, {})
    assert estado["creds"] == creds
    assert {(t, c): v for t, vs in estado["keys"].items() for c, v in vs.items()} == keys
    assert all(estado["keys"].values())  # no empty key types left behind
