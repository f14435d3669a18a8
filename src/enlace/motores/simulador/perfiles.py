"""Seeded profiles of the simulator's virtual recipients, their WhatsApp ids and their Spanish replies."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from enum import StrEnum

# The network's number rules are the product's (`enlace.comun.telefonos`); the simulator keeps its names.
from enlace.comun.telefonos import canonico_mx as telefono_canonico  # noqa: F401 (re-exported)
from enlace.comun.telefonos import jid_mx as jid_de

SUFIJO_LID = "@lid"


class Disposicion(StrEnum):
    """How a person tends to answer when they answer at all."""

    interesado = "interesado"
    pregunton = "pregunton"
    baja = "baja"
    molesto = "molesto"
    cordial = "cordial"


RESPUESTAS: dict[Disposicion, tuple[str, ...]] = {
    Disposicion.interesado: (
        "Sí me interesa, ¿de cuánto sería?",
        "Hola, sí me interesa. ¿Qué necesito?",
        "Buenas tardes, ¿me puede dar más información?",
        "Me interesa, ¿me pueden marcar por teléfono?",
        "Sí, ¿cuánto me prestan con mi pensión?",
        "Ok, mándeme la información por favor",
    ),
    Disposicion.pregunton: (
        "¿Qué requisitos piden?",
        "¿Cuál es la tasa de interés?",
        "¿A cuántos plazos es?",
        "¿Ustedes de dónde son?",
        "¿Esto es del IMSS?",
        "¿Tienen oficina en Guadalajara?",
        "¿Me descuentan de la pensión directamente?",
    ),
    Disposicion.baja: (
        "BAJA",
        "ALTO",
        "Baja por favor",
        "Ya no me manden mensajes",
        "No me interesa, denme de baja",
        "STOP",
    ),
    Disposicion.molesto: (
        "¿Quién le dio mi número?",
        "Dejen de molestar",
        "Esto es fraude, los voy a reportar",
        "No estoy interesado, gracias",
        "Ya les dije que no",
        "Otra vez con lo mismo...",
    ),
    Disposicion.cordial: (
        "Gracias",
        "¿Quién es?",
        "Ok",
        "👍",
        "Ahorita estoy ocupado, luego le escribo",
        "Buenas, ¿con quién tengo el gusto?",
    ),
}

NOMBRES = (
    "María",
    "José",
    "Guadalupe",
    "Juan",
    "Rosa",
    "Francisco",
    "Carmen",
    "Antonio",
    "Josefina",
    "Jesús",
    "Margarita",
    "Manuel",
    "Teresa",
    "Pedro",
    "Ana",
    "Miguel",
    "Leticia",
    "Raúl",
    "Martha",
    "Alejandro",
)
APELLIDOS = (
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
)


@dataclass(frozen=True, slots=True)
class PerfilDestinatario:
    telefono: str  # +52XXXXXXXXXX
    en_whatsapp: bool
    usa_521: bool
    lid: str | None  # "<digits>@lid" when the network addresses this person by LID
    nombre: str
    disposicion: Disposicion
    entrega_s: tuple[float, float]  # delivery delay range once online
    prob_lectura: float
    lectura_s: tuple[float, float]  # read delay range after delivery
    prob_respuesta: float  # of answering a message they read
    respuesta_s: tuple[float, float]
    horas_fuera_de_linea: float  # 0 = online; otherwise the phone is off this long after a message

    @property
    def jid(self) -> str:
        return jid_de(self.telefono, self.usa_521)


def perfil_para(semilla: int, telefono: str) -> PerfilDestinatario:
    """The profile of `telefono` under `semilla`: the same every time, whatever the order of questions."""
    rng = random.Random(f"{semilla}|{telefono}")
    en_whatsapp = rng.random() >= 0.04
    usa_521 = rng.random() < 0.6
    lid = None
    if rng.random() < 0.15:
        lid = f"{rng.randrange(10**13, 10**15)}{SUFIJO_LID}"
    nombre = f"{rng.choice(NOMBRES)} {rng.choice(APELLIDOS)}"
    disposicion = rng.choices(list(Disposicion), weights=[35, 25, 10, 10, 20])[0]
    tipo = rng.random()
    if tipo < 0.10:  # phone off for hours (night shift, no data plan)
        horas = rng.uniform(2, 10)
    else:
        horas = 0.0
    atento = rng.random() < 0.3
    return PerfilDestinatario(
        telefono=telefono,
        en_whatsapp=en_whatsapp,
        usa_521=usa_521,
        lid=lid,
        nombre=nombre,
        disposicion=disposicion,
        entrega_s=(1.0, 30.0),
        prob_lectura=0.9 if atento else 0.6,
        lectura_s=(20.0, 600.0) if atento else (300.0, 3 * 3600.0),
        prob_respuesta=0.45 if atento else 0.2,
        respuesta_s=(15.0, 240.0),
        horas_fuera_de_linea=horas,
    )


def ajustar(perfil: PerfilDestinatario, **cambios: object) -> PerfilDestinatario:
    """A copy of `perfil` with fields changed (tests pin a person's behaviour this way)."""
    return replace(perfil, **cambios)  # type: ignore[arg-type]


def respuesta_para(perfil: PerfilDestinatario, rng: random.Random, *, ya_dio_baja: bool) -> str:
    """A realistic reply; someone who already asked to be removed only gets angrier."""
    if ya_dio_baja:
        return rng.choice(RESPUESTAS[Disposicion.molesto])
    return rng.choice(RESPUESTAS[perfil.disposicion])


def numero_de_agente(semilla: int, agente_id: int) -> str:
    """The number an agent's virtual phone has: distinct for every agent id (a bijection mod 10^8)."""
    return "+5255" + f"{(agente_id * 7919 + semilla * 104729) % 10**8:08d}"
