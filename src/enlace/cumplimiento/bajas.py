"""Opt-out detection for incoming replies: baja / no_interesado / otro, with the rule that fired."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

# How the classifier works (docs/cumplimiento.md has the long version):
#
# 1. The text is folded: accents, case, emoji and punctuation are normalised, Spanish spelling
#    variants that sound the same are merged (v/b, z/s, ce/se, qu/k, ll/y, silent h, ge/je) and
#    repeated letters are squeezed. "NO ME ESCRIVAAAN!!" and "no me escriban" fold to the same thing.
#    Patterns are written in plain Spanish and folded with the same function, so they stay readable.
# 2. Rules are tried in a fixed order: every `baja` rule first, then `no_interesado`, then `otro`.
#    A rule fires when its pattern matches and none of its own exceptions match. The first rule that
#    fires decides, and its name and the matched fragment are stored with the decision.
# 3. Being conservative means two things here. A bare keyword that has other meanings in Spanish
#    (BAJA, ALTO, CANCELAR) only counts when it is the whole message, give or take courtesy words, so
#    "mi pensión es baja" or "el interés es muy alto" are not opt-outs. And a request to cancel or
#    "dar de baja" a *product* ("¿cómo doy de baja mi crédito anterior?") is a customer-service
#    question for the agent, not a refusal of messages: it is classed `otro` with the rule that says
#    why, while "denme de baja de su lista" or "¿cómo me doy de baja?" are opt-outs.


class ClaseRespuesta(StrEnum):
    baja = "baja"
    no_interesado = "no_interesado"
    otro = "otro"


@dataclass(frozen=True, slots=True)
class ResultadoBaja:
    clase: ClaseRespuesta
    regla: str  # name of the rule that decided; "sin_regla" when nothing fired
    fragmento: str | None = None  # the folded fragment the rule matched (explains the decision)
    descripcion: str = ""


# ---- folding ------------------------------------------------------------------------------------

# Emoji that carry meaning are turned into words before the rest are dropped.
_EMOJI = {
    "\U0001f6d1": " stop ",  # 🛑
    "\u26d4": " stop ",  # ⛔
    "\U0001f44e": " pulgarabajo ",  # 👎
}
_SEPARADORES = re.compile(r"[.,;:!¡?¿\n\r\t…/()\[\]{}\"'“”«»\-–—_*+=|]+")
_NO_ALFANUMERICO = re.compile(r"[^a-z0-9ñ. ]+")
_ESPACIOS = re.compile(r"\s+")


_COMBINANTES = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _quitar_acentos(texto: str) -> str:
    if texto.isascii():
        return texto
    return _COMBINANTES.sub("", unicodedata.normalize("NFKD", texto))


# Cyrillic and Greek letters that look Latin: "ВАЈА" typed from a copied text or on purpose.
_PARECIDAS = str.maketrans("аеорсухіјвкмнтԁѕαεορτυνκ", "aeopcyxijbkmhtdsaeoptybk")


# Format (Cf) and control (Cc) characters: zero-width spaces and joiners, bidi marks, soft hyphen, BOM,
# word joiner, tag characters. Tab and line breaks stay: they separate words.
_INVISIBLES = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\ue000-\uf8ff]"
)


def _quitar_invisibles(texto: str) -> str:
    """Drop zero-width and control characters, which would otherwise split a word ("BA\u200bJA")."""
    return _INVISIBLES.sub("", texto)


_C_SUAVE = re.compile(r"c(?=[ei])")
_G_SUAVE = re.compile(r"g(?=[ei])")
_REPETIDAS = re.compile(r"(.)\1+")


@lru_cache(maxsize=8192)
def _plegar_palabra(palabra: str) -> str:
    """Merge Spanish spellings that sound alike, then squeeze repeated letters (cached: words repeat)."""
    # "ch" is protected by a placeholder so the silent-h and c→k steps leave it alone.
    p = palabra.replace("ñ", "n").replace("qu", "k").replace("ll", "y").replace("ch", "\x00")
    p = p.replace("h", "")
    p = _C_SUAVE.sub("s", p)
    p = p.replace("c", "k").replace("z", "s").replace("v", "b").replace("w", "u")
    p = _G_SUAVE.sub("j", p)
    p = _REPETIDAS.sub(r"\1", p)
    return p.replace("\x00", "ch")


# ---- verbs with attached pronouns ------------------------------------------------------------------
#
# Spanish attaches object pronouns to imperatives, infinitives and gerunds: «bórrenlo», «sáquenme»,
# «desapúntenme», «quítame», «olvídense», «párenle». Rules are written over separate words ("borren me"),
# so a folded word that is exactly one of these verbs plus pronouns is split back into its parts. Only
# forms generated from the verbs below are split, so ordinary words are never cut.

_CLITICOS = ("me", "nos", "lo", "la", "los", "las", "le", "les", "te", "se")
_CLITICOS_DOBLES = tuple(f"{a} {b}" for a in ("me", "nos", "te", "se") for b in ("lo", "la", "los", "las"))
_VERBOS_AR = (
    "borrar quitar sacar eliminar desapuntar apuntar bajar retirar dejar olvidar mandar enviar llamar "
    "contactar molestar parar agregar bloquear reportar marcar buscar desafiliar registrar anotar "
    "textear fastidiar chingar"
).split()
_VERBOS_ER_IR = "remover escribir desuscribir desinscribir suscribir inscribir excluir incluir meter salir".split()
# Imperatives that do not follow the pattern of their class.
_IRREGULARES = {
    "dar": ("da", "de", "den", "dar", "dando"),
    "salir": ("sal", "salga", "salgan", "salir", "saliendo"),
    "remover": ("remueve", "remueva", "remuevan", "remover", "removiendo"),
    "excluir": ("excluye", "excluya", "excluyan", "excluir", "excluyendo"),
    "incluir": ("incluye", "incluya", "incluyan", "incluir", "incluyendo"),
    "poner": ("pon", "ponga", "pongan", "poner", "poniendo"),
    "hacer": ("haz", "haga", "hagan", "hacer", "haciendo"),
}


def _formas(verbo: str) -> tuple[str, ...]:
    """tú / usted / ustedes imperatives, infinitive and gerund, spelled as Mexicans write them."""
    if verbo in _IRREGULARES:
        return _IRREGULARES[verbo]
    raiz, clase = verbo[:-2], verbo[-2:]
    if clase == "ar":
        # Subjunctive-based imperatives keep the sound: saque, agregue.
        suave = raiz[:-1] + "qu" if raiz.endswith("c") else raiz + "u" if raiz.endswith("g") else raiz
        return (raiz + "a", suave + "e", suave + "en", verbo, raiz + "ando")
    return (raiz + "e", raiz + "a", raiz + "an", verbo, raiz + "iendo")


def _tabla_cliticos() -> dict[str, str]:
    tabla: dict[str, str] = {}
    for verbo in (*_VERBOS_AR, *_VERBOS_ER_IR, *_IRREGULARES):
        for forma in _formas(verbo):
            base = _plegar_palabra(forma)
            for clitico in (*_CLITICOS, *_CLITICOS_DOBLES):
                junto = _plegar_palabra(forma + clitico.replace(" ", ""))
                if junto != base:
                    tabla.setdefault(junto, base + " " + " ".join(_plegar_palabra(c) for c in clitico.split()))
    return tabla


_ENCLITICOS = _tabla_cliticos()

# Texting abbreviations that stand for a whole word.
_ABREVIATURAS = {
    "q": "ke",
    "k": "ke",
    "m": "me",
    "d": "de",
    "x": "por",
    "xq": "porke",
    "pq": "porke",
    "xfa": "por fabor",
    "xfavor": "por fabor",
    "porfabor": "por fabor",
    "tmb": "tambien",
    "tb": "tambien",
    "msj": "mensaje",
    "msjs": "mensajes",
    "msg": "mensaje",
    "msgs": "mensajes",
    "mensajitos": "mensajes",
    "talbes": "tal bes",
    "nomas": "nomas",
}


def _plegar_token(token: str) -> str:
    """Fold one word; it may come back as several ("borenme" → "boren me")."""
    plegada = _plegar_palabra(token)
    plegada = _ABREVIATURAS.get(plegada, plegada)
    return _ENCLITICOS.get(plegada, plegada)


def _unir_deletreadas(tokens: list[str]) -> list[str]:
    """«B A J A» / «b.a.j.a»: three or more single letters in a row are one word spelled out."""
    salida: list[str] = []
    corrida: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1 and tok.isalpha():
            corrida.append(tok)
            continue
        if len(corrida) >= 3:
            salida.append("".join(corrida))
        else:
            salida.extend(corrida)
        corrida = []
        if tok:
            salida.append(tok)
    return salida


def plegar(texto: str) -> str:
    """Fold a reply to ' tok tok . tok ' form: one space between tokens, '.' where punctuation was."""
    # NFKC first: full-width and "bold" letters (ＢＡＪＡ, 𝐁𝐀𝐉𝐀) become plain ones before lowercasing.
    t = _quitar_invisibles(texto)
    if not t.isascii():
        t = unicodedata.normalize("NFKC", t)
        for emoji, palabra in _EMOJI.items():
            if emoji in t:
                t = t.replace(emoji, palabra)
    t = _quitar_acentos(t.lower().translate(_PARECIDAS))
    # "b.a.j.a" → "b a j a" before the dots become pauses.
    t = re.sub(r"(?<=\b[a-z])[.\-_*](?=[a-z]\b)", " ", t)
    t = _SEPARADORES.sub(" . ", t)
    t = _NO_ALFANUMERICO.sub(" ", t)
    crudos = _unir_deletreadas([tok for tok in _ESPACIOS.split(t) if tok])
    tokens = " ".join(tok if tok == "." else _plegar_token(tok) for tok in crudos).split()
    # Runs of separators mean one pause; a pause at either end means nothing.
    limpios: list[str] = []
    for tok in tokens:
        if tok == "." and (not limpios or limpios[-1] == "."):
            continue
        limpios.append(tok)
    while limpios and limpios[-1] == ".":
        limpios.pop()
    return " " + " ".join(limpios) + " " if limpios else " "


_PALABRA_PATRON = re.compile(r"[a-záéíóúüñ]+")


def _patron(texto: str) -> re.Pattern[str]:
    """Compile a readable Spanish regex: every letter run is folded like the replies are.

    Token boundaries are spaces (replies are folded to ' a b c '), so patterns never use \\b.
    """
    plegado = _PALABRA_PATRON.sub(lambda m: _plegar_token(_quitar_acentos(m.group(0))), texto)
    return re.compile(r"(?<= )(?:" + plegado + r")(?= )")


def _palabras(texto: str) -> frozenset[str]:
    return frozenset(" ".join(_plegar_token(_quitar_acentos(p)) for p in texto.split()).split())


# ---- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Excepcion:
    nombre: str
    patron: re.Pattern[str]
    # Some exceptions look at the raw text (a question mark), which folding turns into a pause.
    sobre_crudo: bool = False
    # A local exception only cancels the match it overlaps ("no quiero darme de baja" cancels that
    # "darme de baja"), so a second, real request in the same message still counts: «quiero cancelar
    # mi crédito, y denme de baja de la lista» is an opt-out. Others speak for the whole message.
    local: bool = False

    def aplica(self, plegado: str, crudo: str, inicio: int = 0, fin: int = 0) -> bool:
        if self.sobre_crudo:
            return self.patron.search(crudo) is not None
        if not self.local:
            return self.patron.search(plegado) is not None
        return any(m.start() < fin and inicio < m.end() for m in self.patron.finditer(plegado))


@dataclass(frozen=True, slots=True)
class Regla:
    nombre: str
    clase: ClaseRespuesta
    descripcion: str
    patron: re.Pattern[str] | None = None
    # The pattern must match at the start of the reply.
    al_inicio: bool = False
    # For keyword rules: the message, minus courtesy words, must consist only of these words.
    solo: frozenset[str] | None = None
    relleno: frozenset[str] = frozenset()
    excepciones: tuple[Excepcion, ...] = ()

    def coincidencia(self, plegado: str) -> str | None:
        """The fragment this rule's pattern matches in `plegado`, ignoring exceptions."""
        if self.solo is not None:
            tokens = [t for t in plegado.split() if t != "."]
            utiles = [t for t in tokens if t not in self.relleno]
            if not utiles or any(t not in self.solo for t in utiles):
                return None
            return " ".join(tokens)
        assert self.patron is not None
        encontrado = self.patron.match(plegado, 1) if self.al_inicio else self.patron.search(plegado)
        return encontrado.group(0).strip() if encontrado else None

    def _coincidencias(self, plegado: str) -> list[tuple[str, int, int]]:
        if self.solo is not None:
            fragmento = self.coincidencia(plegado)
            return [] if fragmento is None else [(fragmento, 0, len(plegado))]
        assert self.patron is not None
        if self.al_inicio:
            m = self.patron.match(plegado, 1)
            return [] if m is None else [(m.group(0).strip(), m.start(), m.end())]
        return [(m.group(0).strip(), m.start(), m.end()) for m in self.patron.finditer(plegado)]

    def evaluar(self, plegado: str, crudo: str) -> tuple[str | None, Excepcion | None]:
        """(fragment, None) when the rule fires; (None, exception) when an exception stopped every match."""
        primera: Excepcion | None = None
        for fragmento, inicio, fin in self._coincidencias(plegado):
            excepcion = next((e for e in self.excepciones if e.aplica(plegado, crudo, inicio, fin)), None)
            if excepcion is None:
                return fragmento, None
            primera = primera or excepcion
        return None, primera


_PRODUCTOS = (
    "crédito|créditos|préstamo|préstamos|seguro|seguros|tarjeta|tarjetas|cuenta|cuentas|descuento|descuentos"
    "|póliza|domiciliación|afore|adeudo|deuda|pago|pagos|cargo|cargos|nómina|pensión|trámite|solicitud|contrato"
)
_ARTICULOS = "(?:mi |mis |el |la |los |las |un |una |del |de mi |de la |de el |ese |este |esta |otro |otra )?"

# "dar de baja" / "cancelar" aimed at a product is a service question, not an opt-out.
_EXC_PRODUCTO = Excepcion(
    "baja_de_producto",
    _patron(
        rf"(?:de baja|cancelar|cancelen|cancela|cancele|cancelo|cancelarlo|cancelarla) {_ARTICULOS}"
        rf"(?:\S+ )?(?:{_PRODUCTOS})"
        rf"|(?:{_PRODUCTOS})(?: \S+){{0,6}} (?:lo|la|los|las) (?:doy|damos|dan|dar|puedo dar|cancelo|cancela)"
        rf"|(?:{_PRODUCTOS})(?: \S+){{0,6}} (?:darlo|darla|cancelarlo|cancelarla)"
    ),
    local=True,
)
_RETIRAR = (
    "borren|borre|borra|borrar|quiten|quite|quita|quitar|saquen|saque|saca|sacar|eliminen|elimine|elimina|eliminar"
    "|retiren|retire|retira|retirar|bajen|baje|baja|bajar|remuevan|remueva|remover|excluyan|excluya|excluir"
    "|desapunten|desapunte|desapunta|desapuntar|desuscriban|desuscriba|desuscribir|desinscriban|desinscribir"
)
# "no quiero darme de baja" / "no borren mi número" are the opposite of an opt-out.
_EXC_NEGADA = Excepcion(
    "baja_negada",
    _patron(
        r"no (?:quiero|deseo|quisiera|pedí|pedi|solicité) (?:que me den|darme|dar|que me des|cancelar"
        rf"|que me (?:{_RETIRAR})|(?:{_RETIRAR}) me|salirme|salir)"
        r"|no me (?:den|des|dé) de baja|no (?:cancelen|cancele|canceles)"
        rf"|no (?:me |nos |lo )?(?:{_RETIRAR})(?: me| nos| lo)?"
    ),
    local=True,
)
# "no me llamen, mejor por mensaje" asks for messages instead of calls.
_EXC_PREFIERE_MENSAJES = Excepcion(
    "prefiere_mensajes",
    _patron(
        r"mejor (?:por )?(?:mensaje|mensajes|whatsapp|wats|aquí|escrito|chat)|escríbanme|escríbeme|escríbame"
        r"|prefiero (?:por )?(?:mensaje|mensajes|whatsapp|escrito)"
    ),
)
# "no me escriban tan tarde" limits when, not whether: the 07:00–22:00 window already applies to all.
_EXC_HORARIO = Excepcion(
    "pide_otro_horario",
    _patron(
        r"(?:escriban|manden|envíen|llamen|molesten|escribas|mandes|llames) (?:mensajes |nada |tan |muy )?"
        r"(?:tarde|temprano|noche|en la noche|de noche|en la madrugada|en la mañana|a esta hora|a estas horas"
        r"|en mi trabajo|en horario|los domingos|en domingo|el fin de semana|los fines de semana)"
    ),
    local=True,
)
# Where a person asks to be taken out of: "de aquí", "de su lista", "de sus grupos".
_DESDE_LISTA = (
    r"de (?:aquí|aqui|ahí|ahi|acá|aca|allí|esto|eso|todo|ustedes|(?:su |sus |la |las |los |el |esta |este |estas "
    r"|estos |tu |tus |esa |ese |mi |mis |todas |todos |todas sus |todas las |todos sus |todos los )?"
    r"(?:lista|listas|base|bases|base de datos|grupo|grupos"
    r"|difusión|difusiones|registro|registros|contactos|contacto|sistema|campaña|campañas|envíos|mensajes"
    r"|promociones|publicidad|whatsapp|chat|padrón|directorio|agenda|número|numero|datos|bd|spam|mailing))"
)
# The end of what was asked: a pause, the end of the message, or only courtesy words until then.
_FIN = (
    r"(?: (?:ya|por favor|porfavor|porfa|porfis|plis|pls|gracias|de una vez|ahora|ahorita|inmediatamente|ya mismo"
    r"|todo|también|tambien|tmb))*(?= \.| $)"
)
# After «bórrenlo» a new sentence may start without a comma («bórrenlo ya no es de ella»); an object
# («quítame el cargo», «sácame de dudas») may not, and is what keeps those out.
_SIGUE_FRASE = r"(?= (?:no|ke|porke|y|ni|pues|es|soy|somos|ella|nadie|nunca|ahora|esta|este) )"
_NO_MAS = (
    r"mensajes|mensaje|whatsapp|whatsapps|wats|publicidad|promociones|promos|información|informacion|info|spam"
    r"|envíos|envios|textos|notificaciones|llamadas|ofertas|campañas"
)
_CORTESIA = _palabras(
    "ya por favor porfavor porfa porfis plis pls please gracias ok okey okay si de a me mi mí nos la el "
    "lo los las su sus este esta número numero celular teléfono telefono lista todo todos yo inmediato "
    "inmediatamente urgente ahora ahorita mismo quiero deseo solicito pido dame denme den deme darme "
    "dar x fa mensajes mensaje msj msjs whatsapp wats envíos envios favor tu tus ustedes bye adiós adios"
)

_VERBOS_CONTACTO_SUBJ = (
    "escriban|escriba|escribas|manden|mande|mandes|envíen|envíe|envíes|contacten|contacte|contactes"
    "|busquen|busque|busques|molesten|moleste|molestes|marquen|textean|texteen|hablen"
)
_VERBOS_CONTACTO_INF = (
    "escribir|escribirme|escribirnos|mandar|mandarme|enviar|enviarme|contactar|contactarme|molestar|molestarme"
    "|llamar|llamarme|buscar|buscarme|marcar|marcarme|insistir|fastidiar|fastidiarme|chingar|chingarme"
    "|joder|jodernos|fregar|fregarme|spamear|textear|mandar mensajes|enviar mensajes"
)
_VERBOS_CONTACTO_GER = (
    "escribiendo|mandando|enviando|contactando|molestando|llamando|buscando|marcando|insistiendo|chingando"
    "|jodiendo|fregando|fastidiando|spameando|texteando"
)

REGLAS: tuple[Regla, ...] = (
    # ---- baja -------------------------------------------------------------------------------
    Regla(
        "no_molestar",
        ClaseRespuesta.baja,
        "Pide que no lo molesten o que lo dejen en paz.",
        patron=_patron(
            r"no (?:me |nos )?(?:molesten|moleste|molestes|molestar)"
            r"|no (?:me |nos )?(?:sigan|siga|sigas|estén|esten|estés) (?:molestando|fastidiando)"
            r"|(?:déjenme|déjeme|déjame|dejenme|dejeme|dejame|déjennos) (?:en paz|tranquilo|tranquila|tranquilos)"
            r"|(?:dejen|deje|deja) en paz"
            r"|no (?:insistan|insista|insistas)|ya basta|basta de (?:mensajes|molestar)"
            r"|(?:no|ya no) (?:me |nos )?(?:chinguen|chingues|jodan|jodas|frieguen|friegues|fastidien|fastidies"
            r"|spameen|den lata)"
            r"|ya estuvo (?:bueno |suave )?(?:de|con) (?:sus |los |tus |tanto |tantos )?(?:mensajes|molestar|spam|lata)"
            r"|(?:paren|pare|para|paremos) le(?: ya)?(?:(?: con| de)(?: sus| los| tus| tanto| tantos)?"
            rf" (?:{_NO_MAS}|escribir|mandar|molestar|enviar)| a (?:sus |los |tus )?(?:{_NO_MAS})|{_FIN})"
            r"|(?:olviden|olvide|olvida) (?:se |me |nos )?(?:de (?:mí|mi|nosotros|mi número|mi numero|este número"
            r"|este numero)|me|nos)(?= \.| $| de| por| ya)"
        ),
        excepciones=(_EXC_HORARIO,),
    ),
    Regla(
        "no_escribir",
        ClaseRespuesta.baja,
        "Pide que no le escriban, manden ni envíen mensajes, o que no lo contacten.",
        patron=_patron(
            rf"no (?:me |nos |le |les )?(?:(?:vuelvan|vuelva|vuelvas) a (?:{_VERBOS_CONTACTO_INF}|llamar|llamarme)"
            rf"|(?:{_VERBOS_CONTACTO_SUBJ})"
            rf"|(?:sigan|siga|sigas|estén|esten|estés) (?:{_VERBOS_CONTACTO_GER}))"
            r"|(?:no|ya no) (?:quiero|deseo|quisiera|acepto) (?:que me (?:sigan |vuelvan a )?"
            rf"(?:{_VERBOS_CONTACTO_SUBJ}"
            rf"|llamen|{_VERBOS_CONTACTO_GER}|{_VERBOS_CONTACTO_INF})"
            r"|recibir|más mensajes|mas mensajes|mensajes|publicidad|promociones|saber nada"
            r"|seguir recibiendo|ser (?:contactado|contactada|contactados|molestado|molestada|llamado|llamada)"
            r"|que me (?:sigan )?(?:lleguen|llegue|llegando) (?:más |mas )?(?:mensajes|sus mensajes|promociones"
            r"|publicidad|whatsapps|notificaciones))"
            r"|favor de no (?:" + _VERBOS_CONTACTO_INF + ")"
            rf"|nunca (?:más |mas )?(?:me |nos )?(?:vuelvan a )?(?:{_VERBOS_CONTACTO_SUBJ})"
            r"|no (?:autorizo|autorizamos|doy (?:mi )?(?:permiso|autorización|consentimiento)|di (?:mi )?permiso)"
            r" (?:(?:a )?que|para|ser|recibir|el uso|el tratamiento|mensajes|publicidad|este contacto|contacto|nada)"
            r"|no (?:me |nos )?(?:envíen|manden|escriban) (?:más|mas|nada)"
        ),
        excepciones=(_EXC_HORARIO,),
    ),
    Regla(
        "dejen_de",
        ClaseRespuesta.baja,
        "Pide que dejen de escribirle, mandarle mensajes, molestarlo o insistir.",
        patron=_patron(
            rf"(?:dejen|deje|deja|dejes|dejar|dejaran|dejarán|dejaría|dejarian) de (?:{_VERBOS_CONTACTO_INF}"
            rf"|estar (?:{_VERBOS_CONTACTO_GER}))"
        ),
        excepciones=(_EXC_HORARIO,),
    ),
    Regla(
        "no_llamar",
        ClaseRespuesta.baja,
        "Pide que no lo llamen (salvo que pida mensajes en su lugar).",
        patron=_patron(r"no (?:me |nos )?(?:llamen|llame|llames|vuelvan a llamar)"),
        excepciones=(_EXC_PREFIERE_MENSAJES, _EXC_HORARIO),
    ),
    Regla(
        "dar_de_baja",
        ClaseRespuesta.baja,
        "Pide que lo den de baja (de la lista, de los mensajes o sin objeto), o pregunta cómo darse de baja.",
        patron=_patron(
            r"(?:darme|darnos|denme|deme|dame|dénme|den|de|des|dar|doy|me doy|da|dan|puedo dar|pueden dar|dieran)"
            r" de baja|de baja (?:mi|este|el) (?:número|numero|teléfono|telefono|celular|contacto)"
            r"|(?:baja|bajas) de (?:su|la|esta|sus|las|tu) (?:lista|listas|base|base de datos|registro|campaña)"
        ),
        excepciones=(_EXC_PRODUCTO, _EXC_NEGADA),
    ),
    Regla(
        "cancelar_mensajes",
        ClaseRespuesta.baja,
        "Pide cancelar los mensajes, la suscripción o las promociones.",
        patron=_patron(
            r"(?:cancelar|cancelen|cancela|cancele|cancelo|quiten|quitar) (?:la |las |los |mi |mis |el |esta |estos )?"
            r"(?:suscripción|suscripcion|mensajes|envíos|envios|notificaciones|promociones|publicidad|campaña)"
        ),
        excepciones=(_EXC_NEGADA,),
    ),
    Regla(
        "sacar_de_lista",
        ClaseRespuesta.baja,
        "Pide que lo saquen, quiten, borren o eliminen de la lista o sus datos.",
        patron=_patron(
            r"(?:sacar|saquen|saque|sácame|sacame|sáqueme|sáquenme|saquenme|quitar|quiten|quite|quítame|quitame"
            r"|quíteme|quítenme|quitenme|borrar|borren|borre|bórrame|borrame|bórreme|bórrenme|borrenme|eliminar"
            r"|eliminen|elimine|elimíname|elimíneme|elimínenme|eliminenme|remover|remuevan|retiren|retire|retirar"
            r"|excluyan|excluir|bajen)"
            r"(?: me)? (?:de )?(?:su |la |esta |sus |las |mi |mis |este |tu )?"
            r"(?:lista|listas|base|base de datos|registro|registros|contactos|número|numero|teléfono|telefono"
            r"|celular|datos|información|informacion|info)"
        ),
        excepciones=(_EXC_NEGADA,),
    ),
    Regla(
        "retirar_con_pronombre",
        ClaseRespuesta.baja,
        "Pide que lo borren, quiten, saquen o eliminen («bórrenme», «sáquenme de aquí», «quiero que me borren»).",
        patron=_patron(
            rf"(?:{_RETIRAR}) (?:me|nos|lo|la|los|las)(?: ya)?(?: {_DESDE_LISTA}|{_FIN}|{_SIGUE_FRASE})"
            rf"|(?:que|ke|pueden|puede|podrían|podrian|favor de) (?:me |nos )?(?:(?:pueden|puede|podrían) )?"
            rf"(?:{_RETIRAR})(?: me| nos)?(?: ya)?(?: {_DESDE_LISTA}|{_FIN})"
            rf"|(?:me|nos) (?:{_RETIRAR})(?: ya)?(?: {_DESDE_LISTA}|{_FIN})"
        ),
        excepciones=(_EXC_NEGADA,),
    ),
    Regla(
        "desuscribir",
        ClaseRespuesta.baja,
        "Usa un verbo que solo significa darse de baja (desuscribir, desinscribir, desapuntar, desafiliar).",
        patron=_patron(
            r"(?:desuscriban|desuscriba|desuscribe|desuscribir|desuscribo|desinscriban|desinscriba|desinscribe"
            r"|desinscribir|desinscribo|desapunten|desapunte|desapunta|desapuntar|desapunto|desafilien|desafilie"
            r"|desafiliar|desafilio|desuscripción|desuscripcion|darme de alta de baja)"
        ),
        excepciones=(_EXC_NEGADA,),
    ),
    Regla(
        "salir_de_lista",
        ClaseRespuesta.baja,
        "Quiere salirse de la lista, del grupo o de los envíos.",
        patron=_patron(rf"(?:salir|salgo|salga|salgan|sal|salirse|salimos)(?: me| nos| se)? {_DESDE_LISTA}"),
        excepciones=(_EXC_NEGADA,),
    ),
    Regla(
        "no_agregar",
        ClaseRespuesta.baja,
        "Pide que no lo agreguen ni lo incluyan en sus listas o grupos.",
        patron=_patron(
            r"no (?:me |nos |lo )?(?:agreguen|agregue|agregues|incluyan|incluya|registren|suscriban|inscriban"
            r"|metan|pongan|anoten|apunten) (?:a |en )(?:su |sus |la |las |esta |este |ningún |ninguna )?"
            r"(?:lista|listas|base|grupo|grupos|difusión|campaña|campañas)"
        ),
    ),
    Regla(
        "no_mas_mensajes",
        ClaseRespuesta.baja,
        "Pide que no haya más mensajes («no más mensajes», «ya no más por favor»).",
        patron=_patron(
            rf"(?:no|ya no|cero|nada de) (?:más |mas )?(?:{_NO_MAS})(?= \.| $| por| porfa| gracias| ya| de| a)"
            rf"|(?:no|ya no) (?:más|mas) (?:{_NO_MAS})"
            rf"|(?:ya no|no) (?:más|mas){_FIN}"
        ),
        excepciones=(
            # "¿no más mensajes de ustedes?" or "no más de 3 mensajes al día" ask something else.
            Excepcion("no_mas_pregunta", re.compile(r"\?\s*$"), sobre_crudo=True),
        ),
    ),
    Regla(
        "reportar_spam",
        ClaseRespuesta.baja,
        "Califica los mensajes de spam o amenaza con reportar o bloquear el número.",
        patron=_patron(
            r"spam|(?:los|lo|las|la|les|voy a|vamos a) (?:reportar|reporto|reportaré|reportare|denunciar"
            r"|denuncio|denunciaré|bloquear|bloqueo|bloquearé|bloqueare|bloqueé)"
        ),
    ),
    Regla(
        "ingles",
        ClaseRespuesta.baja,
        "Opt-out en inglés (unsubscribe, remove me, stop messaging).",
        patron=_patron(r"unsubscribe|remove me|stop (?:messaging|texting|sending)|opt out|do not (?:text|contact)"),
    ),
    Regla(
        "palabra_clave_sola",
        ClaseRespuesta.baja,
        "El mensaje es solo una palabra clave de baja (BAJA, ALTO, STOP, CANCELAR...) con palabras de cortesía.",
        solo=_palabras(
            "baja bajas alto stop estop stopp cancelar cancela cancelen cancelo cancelado basta unsubscribe "
            "desuscribir desuscribirme desuscribanme"
        ),
        relleno=_CORTESIA,
        excepciones=(_EXC_NEGADA,),
    ),
    # ---- no_interesado ----------------------------------------------------------------------
    Regla(
        "no_me_interesa",
        ClaseRespuesta.no_interesado,
        "Dice que no le interesa o que no está interesado.",
        patron=_patron(
            r"no (?:me |nos )?(?:interesa|interesan|intereza|interesó)|no (?:estoy|estamos) interesad[oa]s?"
            r"|sin interés|no me llama la atención|ya no me interesa"
            r"|no (?:tengo|tenemos) (?:ningún |ningun )?(?:interés|interes)"
        ),
    ),
    Regla(
        "no_necesita",
        ClaseRespuesta.no_interesado,
        "Dice que no lo necesita, no lo quiere o ya tiene uno.",
        patron=_patron(
            r"no (?:lo |la |los |las )?(?:necesito|necesitamos|ocupo|ocupamos|requiero|quiero|queremos|busco)"
            r"|ya (?:tengo|tenemos|cuento con|saqué|saque|pedí|pedi) (?:un |una |mi |otro |otra )?(?:crédito|préstamo)"
        ),
    ),
    Regla(
        "ahora_no",
        ClaseRespuesta.no_interesado,
        "Rechazo por ahora (ahorita no, por el momento no, tal vez después).",
        patron=_patron(
            r"(?:ahorita|ahora|por ahora|por el momento|de momento|por lo pronto|en este momento) no(?= \.| gracias| $)"
            r"|no (?:\. )?(?:por ahora|por el momento|de momento|ahorita|por lo pronto|en este momento)"
        ),
        excepciones=(
            Excepcion(
                "no_puede_ahora",
                _patron(
                    r"no (?:puedo|estoy disponible|tengo tiempo|me es posible)|estoy (?:ocupado|ocupada|trabajando"
                    r"|manejando)"
                ),
            ),
            Excepcion("muestra_interes", _patron(r"(?:sí|si) (?:me )?interesa|más adelante sí|mas adelante si")),
        ),
    ),
    Regla(
        "negativa_corta",
        ClaseRespuesta.no_interesado,
        "La respuesta es solo un no (no, no gracias, nop, nel, 👎).",
        solo=_palabras("no nop nope nel nah negativo paso pulgarabajo"),
        relleno=_palabras("gracias muchas ya por ahora de verdad la neta así estoy bien estamos"),
    ),
    Regla(
        "no_gracias",
        ClaseRespuesta.no_interesado,
        "Empieza con 'no, gracias'.",
        patron=_patron(r"no (?:\. )?(?:muchas )?gracias"),
        al_inicio=True,
    ),
    Regla(
        "rechazo_cortes",
        ClaseRespuesta.no_interesado,
        "Rechazo cortés (tal vez después, gracias pero no, en otra ocasión, estoy bien así).",
        patron=_patron(
            r"(?:tal vez|talvez|quizá|quizás|quiza|quizas|a lo mejor|igual y|mejor|probablemente) (?:más |mas )?"
            r"(?:después|despues|luego|adelante|otro día|otro dia|en otra ocasión|en otra ocasion|otra ocasión"
            r"|otra ocasion|para la otra|otra vez|el próximo año|el otro año|en otro momento|otro momento)"
            rf"|(?:en|para) otra (?:ocasión|ocasion|oportunidad|vez){_FIN}"
            r"|gracias (?:\. )?pero (?:\. )?(?:ya )?no(?= \.| $| gracias| me| por| estoy| lo| la| ahorita| ahora)"
            r"|(?:estoy|estamos|así estoy|asi estoy|por ahora estoy|de momento estoy|por el momento estoy) bien"
            r"(?: así| asi)?(?= \.| $| gracias| por)"
            r"|no me (?:late|laten|convence|convencen|llama|llaman)(?= \.| $| gracias| la)"
            r"|paso (?:\. )?gracias|no (?:\. )?(?:ya )?no(?= \.| $| gracias)|mejor no(?= \.| $| gracias)"
        ),
        excepciones=(
            Excepcion(
                "muestra_interes",
                _patron(r"(?:sí|si) (?:me )?interesa|más adelante sí|mas adelante si|(?:sí|si) (?:\. )?gracias"),
            ),
            Excepcion("es_pregunta", re.compile(r"[?¿]"), sobre_crudo=True),
        ),
    ),
    Regla(
        "numero_equivocado",
        ClaseRespuesta.no_interesado,
        "Dice que no es la persona buscada o que el número es equivocado.",
        patron=_patron(
            r"número equivocado|numero equivocado|se equivocaron|se equivocó|está equivocado|esta equivocado"
            r"|no soy (?:yo|esa persona|él|ella|el|la persona)|no conozco a|aquí no vive|no vive aquí"
            r"|no es (?:mi|este|su) (?:nombre|número|numero)|no es aquí|ya no es (?:su|de)"
            r"|ya no (?:usa|ocupa|tiene) (?:este|ese|el) (?:número|numero|celular|teléfono|telefono)"
        ),
    ),
    Regla(
        "titular_fallecido",
        ClaseRespuesta.no_interesado,
        "Informa que la persona falleció.",
        patron=_patron(r"falleció|fallecio|fallecida|fallecido|murió|murio|finado|finada|en paz descanse|q e p d"),
    ),
    Regla(
        "acusa_fraude",
        ClaseRespuesta.no_interesado,
        "Acusa de fraude o estafa sin preguntar (una pregunta la contesta el agente).",
        patron=_patron(
            r"fraude|fraudes|estafa|estafas|estafadores|rateros|ladrones|extorsión|extorsion|extorsionadores"
        ),
        excepciones=(Excepcion("es_pregunta", re.compile(r"[?¿]"), sobre_crudo=True),),
    ),
)

_SIN_REGLA = ResultadoBaja(ClaseRespuesta.otro, "sin_regla", None, "Ninguna regla de baja ni de rechazo aplica.")


def clasificar(texto: str | None, reglas: Iterable[Regla] = REGLAS) -> ResultadoBaja:
    """Classify one reply. Pure and deterministic; the result names the rule that decided."""
    if not texto or not texto.strip():
        return _SIN_REGLA
    if reglas is REGLAS and len(texto) <= 200:
        return _clasificar_en_cache(texto)
    return _clasificar(texto, reglas)


@lru_cache(maxsize=4096)
def _clasificar_en_cache(texto: str) -> ResultadoBaja:
    # Short replies repeat a lot across a campaign ("No", "Baja", "ok", "gracias").
    return _clasificar(texto, REGLAS)


def _clasificar(texto: str, reglas: Iterable[Regla]) -> ResultadoBaja:
    plegado = plegar(texto)
    bloqueo: tuple[Regla, Excepcion] | None = None
    for regla in reglas:
        fragmento, excepcion = regla.evaluar(plegado, texto)
        if fragmento is not None:
            return ResultadoBaja(regla.clase, regla.nombre, fragmento, regla.descripcion)
        if excepcion is not None and bloqueo is None and regla.clase == ClaseRespuesta.baja:
            bloqueo = (regla, excepcion)
        if bloqueo is not None and regla.clase != ClaseRespuesta.baja:
            # A reply that looked like an opt-out but is explained by an exception ("no quiero darme de
            # baja", "¿cómo doy de baja mi crédito?") goes to the agent as is, not to the refusal rules.
            break
    if bloqueo is not None:
        regla, excepcion = bloqueo
        return ResultadoBaja(
            ClaseRespuesta.otro,
            excepcion.nombre,
            None,
            f"La regla {regla.nombre} coincidió pero la excepción {excepcion.nombre} la descarta.",
        )
    return _SIN_REGLA
