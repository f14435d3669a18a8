"""Official template configs: validation names the field; components come out in the Cloud API's shape."""

from __future__ import annotations

import pytest

from enlace.motores.cloud_api.webhook import PAYLOAD_BAJA, PAYLOAD_NO_INTERESADO
from enlace.plantillas.oficial import ConfiguracionInvalida, componentes, validar


@pytest.mark.parametrize(
    ("config", "campo"),
    [
        (None, "plantilla_oficial.nombre"),
        ({"nombre": "x", "categoria": "PROMO"}, "plantilla_oficial.categoria"),
        ({"nombre": "x", "parametros": ["a"], "parametros_nombrados": {"b": "c"}}, "plantilla_oficial.parametros"),
        ({"nombre": "x", "parametros_nombrados": {"Cliente": "nombre"}}, "plantilla_oficial.parametros_nombrados"),
        ({"nombre": "x", "encabezado": {"tipo": "video"}}, "plantilla_oficial.encabezado.tipo"),
        ({"nombre": "x", "encabezado": {"tipo": "image", "url": "http://x/a.png"}}, "plantilla_oficial.encabezado.url"),
        (
            {"nombre": "x", "botones": [{"tipo": "quick_reply", "accion": "comprar"}]},
            "plantilla_oficial.botones[0].accion",
        ),
        ({"nombre": "x", "botones": [{"tipo": "url"}]}, "plantilla_oficial.botones[0].columna"),
    ],
)
def test_configuracion_invalida_nombra_el_campo(config: object, campo: str) -> None:
    with pytest.raises(ConfiguracionInvalida) as exc:
        validar(config)  # type: ignore[arg-type]
    assert str(exc.value).startswith(campo)


def test_componentes_con_encabezado_nombrados_y_botones() -> None:
    config = validar(
        {
            "nombre": "oferta",
            "parametros_nombrados": {"cliente": "nombre", "monto": "monto"},
            "encabezado": {"tipo": "document", "url": "https://cdn.example/oferta.pdf", "nombre_archivo": "oferta.pdf"},
            "botones": [
                {"tipo": "quick_reply", "accion": "no_interesado"},
                {"tipo": "quick_reply", "accion": "baja"},
                {"tipo": "url", "columna": "folio"},
            ],
        }
    )
    datos = {"nombre": "Ana", "monto": "$25,000.00", "folio": "F-17"}
    salida = componentes(config, datos.__getitem__)
    assert salida[0] == {
        "type": "header",
        "parameters": [
            {"type": "document", "document": {"link": "https://cdn.example/oferta.pdf", "filename": "oferta.pdf"}}
        ],
    }
    assert salida[1]["parameters"] == [
        {"type": "text", "parameter_name": "cliente", "text": "Ana"},
        {"type": "text", "parameter_name": "monto", "text": "$25,000.00"},
    ]
    assert [b["parameters"][0] for b in salida[2:]] == [
        {"type": "payload", "payload": PAYLOAD_NO_INTERESADO},
        {"type": "payload", "payload": PAYLOAD_BAJA},
        {"type": "text", "text": "F-17"},
    ]
    assert [b["index"] for b in salida[2:]] == ["0", "1", "2"]
