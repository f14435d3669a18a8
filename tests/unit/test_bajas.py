"""Opt-out detection: a table of real-world Spanish replies with the class each must get."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlace.cumplimiento.bajas import REGLAS, ClaseRespuesta, clasificar, plegar

B = ClaseRespuesta.baja
N = ClaseRespuesta.no_interesado
OT = ClaseRespuesta.otro

# (reply, expected class, expected rule or None to skip the rule check)
CASOS: list[tuple[str, ClaseRespuesta, str | None]] = [
    # ---- bare keywords, with the noise real people add
    ("BAJA", B, "palabra_clave_sola"),
    ("baja", B, "palabra_clave_sola"),
    ("Baja.", B, "palabra_clave_sola"),
    ("BAJAAAA!!!", B, "palabra_clave_sola"),
    ("vaja", B, "palabra_clave_sola"),
    ("Baja por favor", B, "palabra_clave_sola"),
    ("baja porfa 🙏", B, "palabra_clave_sola"),
    ("Ya baja!", B, "palabra_clave_sola"),
    ("ALTO", B, "palabra_clave_sola"),
    ("Alto ya!!", B, "palabra_clave_sola"),
    ("haltoo", B, "palabra_clave_sola"),
    ("STOP", B, "palabra_clave_sola"),
    ("Stop ✋", B, "palabra_clave_sola"),
    ("stooop", B, "palabra_clave_sola"),
    ("estop", B, "palabra_clave_sola"),
    ("🛑", B, "palabra_clave_sola"),
    ("CANCELAR", B, "palabra_clave_sola"),
    ("Canselar", B, "palabra_clave_sola"),
    ("quiero cancelar", B, "palabra_clave_sola"),
    ("Cancelen por favor", B, "palabra_clave_sola"),
    ("Ya basta", B, None),
    ("darme de baja", B, "dar_de_baja"),
    # ---- phrases, anywhere in the reply
    ("NO MOLESTAR", B, "no_molestar"),
    ("No molesten 😡", B, "no_molestar"),
    ("no me molesten más por favor", B, "no_molestar"),
    ("Ya no me estén molestando", B, "no_molestar"),
    ("Déjenme en paz!!!", B, "no_molestar"),
    ("No insistan, gracias", B, "no_molestar"),
    ("NO ME ESCRIBAN", B, "no_escribir"),
    ("no me escrivan", B, "no_escribir"),
    ("No me escribas más", B, "no_escribir"),
    ("YA NO ME MANDEN MENSAJES", B, "no_escribir"),
    ("ya no me manden mensages", B, "no_escribir"),
    ("Ya no me envien nada", B, "no_escribir"),
    ("No me vuelvan a escribir", B, "no_escribir"),
    ("no me vuelvan a contactar, gracias", B, "no_escribir"),
    ("No quiero recibir mensajes", B, "no_escribir"),
    ("No quiero que me escriban", B, "no_escribir"),
    ("no quiero saber nada de ustedes", B, "no_escribir"),
    ("Favor de no escribir a este número", B, "no_escribir"),
    ("Dejen de escribirme", B, "dejen_de"),
    ("ya dejen de mandar mensajes!!", B, "dejen_de"),
    ("¿Me pueden dejar de escribir?", B, "dejen_de"),
    ("No me llamen", B, "no_llamar"),
    ("Denme de baja", B, "dar_de_baja"),
    ("Dénme de baja de su lista", B, "dar_de_baja"),
    ("dame de vaja", B, "dar_de_baja"),
    ("¿Cómo me doy de baja?", B, "dar_de_baja"),
    ("Quiero darme de baja de esta lista", B, "dar_de_baja"),
    ("Por favor den de baja este número", B, "dar_de_baja"),
    ("Cancelar suscripción", B, "cancelar_mensajes"),
    ("Quiten la publicidad", B, "cancelar_mensajes"),
    ("Sáquenme de su lista", B, "sacar_de_lista"),
    ("borren mi número", B, "sacar_de_lista"),
    ("Eliminen mis datos por favor", B, "sacar_de_lista"),
    ("Esto es spam", B, "reportar_spam"),
    ("Los voy a reportar", B, "reportar_spam"),
    ("si me vuelven a escribir los bloqueo", B, "reportar_spam"),
    ("unsubscribe", B, "ingles"),
    ("Please stop texting me", B, "ingles"),
    # refusals with a stop request: the stronger class wins
    ("No me interesa, ya no me escriban", B, "no_escribir"),
    ("No gracias. No me manden más", B, "no_escribir"),
    ("No me interesa el crédito y dejen de molestarme", B, "dejen_de"),
    ("Quiero cancelar mi crédito pero ustedes no me escriban", B, "no_escribir"),
    ("No soy la persona que buscan, no me escriban", B, "no_escribir"),
    # ---- no_interesado
    ("No me interesa", N, "no_me_interesa"),
    ("no me interesa por ahora", N, "no_me_interesa"),
    ("No, no me interesa gracias", N, "no_me_interesa"),
    ("NO ME INTEREZA", N, "no_me_interesa"),
    ("No estoy interesada", N, "no_me_interesa"),
    ("No gracias", N, "negativa_corta"),
    ("No, gracias. Que tenga bonito día", N, "no_gracias"),
    ("No", N, "negativa_corta"),
    ("nop", N, "negativa_corta"),
    ("Nel", N, "negativa_corta"),
    ("👎", N, "negativa_corta"),
    ("No lo necesito", N, "no_necesita"),
    ("no ocupo nada gracias", N, "no_necesita"),
    ("Ya tengo un crédito", N, "no_necesita"),
    ("Ahorita no", N, "ahora_no"),
    ("Por el momento no, gracias", N, "ahora_no"),
    ("no por ahora", N, "ahora_no"),
    ("Número equivocado", N, "numero_equivocado"),
    ("Se equivocaron de número", N, "numero_equivocado"),
    ("No soy esa persona", N, "numero_equivocado"),
    ("Mi papá falleció el año pasado", N, "titular_fallecido"),
    ("Son unos estafadores", N, "acusa_fraude"),
    # ---- otro: must NOT fire
    ("¿Cómo doy de baja mi crédito anterior?", OT, "baja_de_producto"),
    ("quiero dar de baja el seguro de mi préstamo", OT, "baja_de_producto"),
    ("Quiero cancelar mi préstamo anterior", OT, None),
    ("Tengo un descuento en mi pensión, ¿cómo lo doy de baja?", OT, "baja_de_producto"),
    ("No quiero darme de baja, solo cambié de número", OT, "baja_negada"),
    ("No, no cancelen", OT, None),
    ("Mi pensión es muy baja, ¿sí califico?", OT, "sin_regla"),
    ("¿La tasa es alta o baja?", OT, "sin_regla"),
    ("El interés está muy alto", OT, "sin_regla"),
    ("Sí me interesa", OT, "sin_regla"),
    ("Me interesa, ¿cuánto me prestan?", OT, "sin_regla"),
    ("Buenos días, ¿quién habla?", OT, "sin_regla"),
    ("¿De dónde sacaron mi número?", OT, "sin_regla"),
    ("Ahorita no puedo, estoy trabajando. Escríbame en la tarde", OT, "sin_regla"),
    ("No me llegó la información", OT, "sin_regla"),
    ("No me molesta que me escriban, pero mándenme la info", OT, "sin_regla"),
    ("Nadie me ha escrito, ¿por qué no me escribes?", OT, "sin_regla"),
    ("No me llamen, mejor por WhatsApp", OT, "prefiere_mensajes"),
    ("No me escriban tan tarde por favor", OT, "pide_otro_horario"),
    ("¿Es fraude?", OT, "sin_regla"),
    ("Mande?", OT, "sin_regla"),
    ("ok", OT, "sin_regla"),
    ("", OT, "sin_regla"),
    ("👍", OT, "sin_regla"),
    ("¿Me reporto con usted o con otro asesor?", OT, "sin_regla"),
]


DATOS = Path(__file__).parent / "datos"


def _leer_tabla() -> list[tuple[str, ClaseRespuesta, str | None]]:
    filas = []
    for linea in (DATOS / "bajas_tabla.tsv").read_text(encoding="utf-8").splitlines():
        if not linea.strip() or linea.startswith("#"):
            continue
        clase, regla, texto = linea.split("\t", 2)
        filas.append((texto, ClaseRespuesta(clase), regla))
    return filas


# The table in tests/unit/datos/bajas_tabla.tsv (real-sounding replies with the rule that decides each).
CASOS += _leer_tabla()


def test_la_tabla_tiene_al_menos_500_respuestas() -> None:
    assert len(CASOS) >= 500
    assert len({texto for texto, _, _ in CASOS}) >= 500
    assert {clase for _, clase, _ in CASOS} == set(ClaseRespuesta)
    # Every kind of trap is represented: keywords used with another meaning, product cancellations.
    assert sum(1 for _, c, r in CASOS if c == OT and r == "sin_regla") >= 100


@pytest.mark.parametrize(("texto", "clase", "regla"), CASOS, ids=[c[0] or "vacio" for c in CASOS])
def test_clasifica_respuestas_reales(texto: str, clase: ClaseRespuesta, regla: str | None) -> None:
    resultado = clasificar(texto)
    assert resultado.clase == clase, resultado
    if regla is not None:
        assert resultado.regla == regla, resultado


def test_cada_decision_explica_su_regla() -> None:
    nombres = {r.nombre for r in REGLAS}
    for texto, _, _ in CASOS:
        resultado = clasificar(texto)
        assert resultado.regla
        assert resultado.descripcion
        if resultado.clase != ClaseRespuesta.otro:
            assert resultado.regla in nombres
            assert resultado.fragmento


def test_plegado_une_variantes_de_ortografia() -> None:
    assert plegar("NO ME ESCRIVAAAN!!!") == plegar("no me escriban")
    assert plegar("Canselár") == plegar("cancelar")
    assert plegar("mensages") == plegar("mensajes")
    assert plegar("hola, ¿qué tal?") == " ola . ke tal "


@given(
    st.sampled_from(["BAJA", "STOP", "no me escriban", "ya no me manden mensajes", "NO MOLESTAR"]),
    st.sampled_from(["", "!", "!!!", ".", " 😡", " 🙏", "..."]),
    st.sampled_from(["", "¡", " ", "  "]),
    st.booleans(),
)
def test_ruido_no_cambia_una_baja(base: str, sufijo: str, prefijo: str, mayusculas: bool) -> None:
    texto = prefijo + (base.upper() if mayusculas else base.lower()) + sufijo
    assert clasificar(texto).clase == ClaseRespuesta.baja


@given(st.text(max_size=200))
def test_nunca_falla_con_texto_arbitrario(texto: str) -> None:
    resultado = clasificar(texto)
    assert resultado.clase in set(ClaseRespuesta)


@pytest.mark.parametrize(
    ("texto", "regla"),
    [
        ("bórrenlo", "retirar_con_pronombre"),
        ("desapúntenme", "retirar_con_pronombre"),
        ("quítame de aquí", "retirar_con_pronombre"),
        ("sáquenme", "retirar_con_pronombre"),
        ("no mas mensajes", "no_mas_mensajes"),
        ("No me interesa, bórrenme", "retirar_con_pronombre"),
        ("B\u200bAJA", "palabra_clave_sola"),
        ("BA\u2060JA\u0007", "palabra_clave_sola"),
    ],
)
def test_casos_del_recorrido_de_caja_negra(texto: str, regla: str) -> None:
    """The replies the black-box run found misclassified (issue 17): each is an opt-out now."""
    resultado = clasificar(texto)
    assert (resultado.clase, resultado.regla) == (B, regla)


@pytest.mark.parametrize("texto", ["tal vez después", "gracias pero no", "Talvez despues", "en otra ocasión"])
def test_rechazos_corteses(texto: str) -> None:
    assert clasificar(texto).clase == N


def test_pronombres_pegados_se_separan_solo_en_verbos() -> None:
    assert plegar("Bórrenlo") == plegar("borren lo")
    assert plegar("desapúntenme") == plegar("desapunten me")
    assert plegar("sácame") == plegar("saca me")
    # Ordinary words that happen to end like a pronoun stay whole.
    assert plegar("tele") == " tele "
    assert plegar("pasteles") == " pasteles "


def test_precision_y_exhaustividad_en_respuestas_no_vistas() -> None:
    """Held-out replies (written apart from the rules): no missed opt-out, no false one."""
    ruta = Path(__file__).resolve().parents[2] / "bench" / "bajas_precision.py"
    spec = importlib.util.spec_from_file_location("bajas_precision", ruta)
    assert spec is not None and spec.loader is not None
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    filas = [f for nombre in ("bajas_validacion.tsv", "bajas_validacion_2.tsv") for f in modulo.leer(DATOS / nombre)]
    metricas, errores = modulo.medir(filas)
    assert metricas["baja"]["n"] >= 90
    assert metricas["baja"]["recall"] == 1.0, errores
    assert metricas["baja"]["precision"] == 1.0, errores
    assert metricas["no_interesado"]["recall"] >= 0.9, errores
