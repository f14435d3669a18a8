"""Streaming reader for portfolio files (CSV in any usual encoding/delimiter, XLSX first sheet) → typed rows."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from enlace.comun import estados_mx as estados
from enlace.comun import telefonos

# One field may not exceed this: a bigger one almost always means an unclosed quote swallowing the file.
MAX_CAMPO = 1_000_000
# Longest value kept for a mapped text column or an extra column.
MAX_TEXTO = 500
# contactos.nombre is varchar(100).
MAX_NOMBRE = 100
MAX_EXTRA = 2000
MAX_COLUMNAS = 200
# An XLSX is a zip: the sheet is streamed, but openpyxl loads the shared strings and the other parts
# whole. Bounds, so any accepted file keeps memory small (zip bombs are refused before openpyxl opens it):
# - uncompressed total at most XLSX_RAZON times the upload (real workbooks inflate 5-15x), never above
#   MAX_XLSX_DESCOMPRIMIDO;
XLSX_RAZON = 100
XLSX_DESCOMPRIMIDO_MIN = 32 * 1024**2
MAX_XLSX_DESCOMPRIMIDO = 2 * 1024**3
# - every part loaded whole (shared strings, styles, workbook, relationships) at most this uncompressed;
MAX_XLSX_PARTE = 32 * 1024**2
# - shared strings: at most one per compressed byte of their part (each distinct value costs bytes
#   even compressed; a bomb repeats one value millions of times) and never more than this.
MAX_XLSX_CADENAS = 500_000
# How many leading rows may precede the header (title rows such as "Cartera noviembre").
MAX_FILAS_ANTES_ENCABEZADO = 10
_MUESTRA = 64 * 1024


class ErrorLectura(Exception):
    """The file cannot be read as a portfolio; `mensaje` is Spanish and says what to fix."""

    def __init__(self, mensaje: str, fila: int | None = None) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.fila = fila


# ---------------------------------------------------------------------------------------------------------------
# Header mapping

CAMPOS = ("telefono", "nombre", "apellidos", "monto", "nss", "curp", "tipo_credito", "estado")

# Keys are normalized header names (see `clave_columna`). Order inside a field is priority when a file has
# several candidates (a 'whatsapp' column beats a generic 'telefono' one).
ALIAS: dict[str, tuple[str, ...]] = {
    "telefono": (
        "whatsapp",
        "numero_whatsapp",
        "whatsapp_numero",
        "telefono_whatsapp",
        "wa",
        "celular",
        "cel",
        "telefono_celular",
        "tel_celular",
        "numero_celular",
        "movil",
        "telefono_movil",
        "telefono",
        "tel",
        "telefono_1",
        "telefono1",
        "tel1",
        "numero_telefono",
        "numero_de_telefono",
        "num_telefono",
        "no_telefono",
        "telefono_contacto",
        "phone",
        "mobile",
        "numero",
    ),
    "nombre": (
        "nombre",
        "nombre_completo",
        "cliente",
        "nombre_cliente",
        "nombre_del_cliente",
        "name",
        "titular",
        "acreditado",
        "derechohabiente",
        "pensionado",
        "nombres",
    ),
    "apellidos": (
        "apellidos",
        "apellido",
        "apellido_paterno",
        "apellido_materno",
        "primer_apellido",
        "segundo_apellido",
    ),
    "monto": (
        "monto",
        "importe",
        "monto_credito",
        "monto_del_credito",
        "monto_prestamo",
        "monto_disponible",
        "monto_ofertado",
        "monto_oferta",
        "cantidad",
    ),
    "nss": (
        "nss",
        "numero_seguro_social",
        "numero_de_seguridad_social",
        "no_ss",
        "no_nss",
        "num_ss",
        "seguro_social",
        "numero_ss",
    ),
    "curp": ("curp",),
    "tipo_credito": ("tipo_credito", "tipo_de_credito", "tipo_prestamo", "producto", "credito", "tipo"),
    "estado": ("estado", "entidad", "entidad_federativa", "estado_residencia", "edo", "estado_republica"),
}
# Also without separators, so 'N.S.S.' and 'Tel-Celular' match.
_CAMPO_DE_ALIAS = {
    **{alias.replace("_", ""): campo for campo, aliases in ALIAS.items() for alias in aliases},
    **{alias: campo for campo, aliases in ALIAS.items() for alias in aliases},
}
_PRIORIDAD = {
    **{alias.replace("_", ""): i for aliases in ALIAS.values() for i, alias in enumerate(aliases)},
    **{alias: i for aliases in ALIAS.values() for i, alias in enumerate(aliases)},
}
_NO_ALFANUMERICO = re.compile(r"[^a-z0-9]+")


def clave_columna(nombre: object) -> str:
    """'Teléfono Celular ' → 'telefono_celular': lowercase, no accents, '_' between words."""
    texto = "" if nombre is None else str(nombre)
    sin_acentos = "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))
    return _NO_ALFANUMERICO.sub("_", sin_acentos.lower()).strip("_")


@dataclass
class Encabezado:
    """Where each known field is, which columns go to `datos_credito`, and the header's row number."""

    fila: int
    nombres: list[str]
    indices: dict[str, int]
    apellidos: list[int] = field(default_factory=list)
    extras: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.columnas = len(self.nombres)
        self.i_telefono = self.indices["telefono"]
        self.i_nombre = self.indices.get("nombre")
        self.i_monto = self.indices.get("monto")
        self.i_nss = self.indices.get("nss")
        self.i_curp = self.indices.get("curp")
        self.i_tipo_credito = self.indices.get("tipo_credito")
        self.i_estado = self.indices.get("estado")


def mapear_encabezado(valores: list[Any], fila: int = 1) -> Encabezado | None:
    """Map a header row; None when it has no phone column (then it is not the header)."""
    nombres = [_texto_celda(v).strip() for v in valores]
    while nombres and not nombres[-1]:
        nombres.pop()
    claves = [clave_columna(n) for n in nombres]
    candidatos: dict[str, list[tuple[int, int]]] = {}
    for i, clave in enumerate(claves):
        if clave not in _CAMPO_DE_ALIAS:
            clave = clave.replace("_", "")
        campo = _CAMPO_DE_ALIAS.get(clave)
        if campo:
            candidatos.setdefault(campo, []).append((_PRIORIDAD[clave], i))
    if "telefono" not in candidatos:
        return None
    indices: dict[str, int] = {}
    apellidos: list[int] = []
    for campo, lista in candidatos.items():
        if campo == "apellidos":
            apellidos = sorted(i for _, i in lista)
            continue
        indices[campo] = min(lista)[1]
    usados = set(indices.values()) | set(apellidos)
    extras: list[tuple[str, int]] = []
    vistos: set[str] = set(indices)
    for i, clave in enumerate(claves):
        if i in usados:
            continue
        base = clave or f"columna_{i + 1}"
        nombre = base
        n = 2
        while nombre in vistos:
            nombre = f"{base}_{n}"
            n += 1
        vistos.add(nombre)
        extras.append((nombre, i))
    return Encabezado(fila=fila, nombres=nombres, indices=indices, apellidos=apellidos, extras=extras)


# ---------------------------------------------------------------------------------------------------------------
# Row interpretation


@dataclass(slots=True)
class ContactoLeido:
    """An accepted row, with every value already normalized (`monto` as a 2-decimal string)."""

    fila: int
    telefono: str
    nombre: str | None
    monto: str | None
    nss: str | None
    curp: str | None
    tipo_credito: str | None
    estado: str | None
    zona_horaria: str | None
    datos_credito: dict[str, Any]


@dataclass(slots=True)
class FilaRechazada:
    """A rejected row: row number as the spreadsheet shows it, the field at fault and why (Spanish)."""

    fila: int
    campo: str
    motivo: str
    telefono_original: str = ""


@dataclass(frozen=True)
class OpcionesLectura:
    pais: str = "MX"
    solo_moviles: bool = False


_CURP = re.compile(r"[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]")
_MONTO_SIMPLE = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_MONTO_LIMPIAR = str.maketrans("", "", " $\u00a0")
_MONTO_MAX = Decimal("1000000000000")
_CENTAVOS = Decimal("0.01")


def _texto_celda(valor: Any) -> str:
    if valor is None:
        return ""
    if isinstance(valor, str):
        return valor.replace("\x00", "") if "\x00" in valor else valor
    if isinstance(valor, bool):
        return "VERDADERO" if valor else "FALSO"
    if isinstance(valor, float) and valor.is_integer() and abs(valor) < 1e16:
        return str(int(valor))
    if isinstance(valor, datetime | date | time):
        return valor.isoformat()
    return str(valor)


def _monto(valor: Any) -> str | FilaRechazada:
    """Amount as a string with 2 decimals ('1234.50'), or a rejection. Accepts '$1,234.50', '1.234,50', 1234.5."""
    if type(valor) is str and _MONTO_SIMPLE.fullmatch(valor):  # the usual case, without Decimal
        entero, _, decimales = valor.partition(".")
        return f"{int(entero)}.{decimales.ljust(2, '0')}"
    if isinstance(valor, bool):
        return FilaRechazada(0, "monto", "no es un importe")
    if isinstance(valor, int | float):
        try:
            numero = Decimal(str(valor))
        except InvalidOperation:
            return FilaRechazada(0, "monto", f"'{valor}' no es un importe")
    else:
        texto = str(valor).translate(_MONTO_LIMPIAR).upper().removesuffix("MXN").removeprefix("MXN")
        if "," in texto and "." in texto:
            if texto.rfind(",") > texto.rfind("."):  # 1.234,50
                texto = texto.replace(".", "").replace(",", ".")
            else:
                texto = texto.replace(",", "")
        elif "," in texto:
            entero, _, decimales = texto.rpartition(",")
            texto = f"{entero.replace(',', '')}.{decimales}" if len(decimales) in (1, 2) else texto.replace(",", "")
        try:
            numero = Decimal(texto)
        except InvalidOperation:
            return FilaRechazada(0, "monto", f"'{_recortar(str(valor))}' no es un importe")
    if not numero.is_finite():
        return FilaRechazada(0, "monto", f"'{_recortar(str(valor))}' no es un importe")
    if numero < 0:
        return FilaRechazada(0, "monto", f"{numero} es negativo")
    if numero >= _MONTO_MAX:
        return FilaRechazada(0, "monto", f"{numero} es demasiado grande")
    return str(numero.quantize(_CENTAVOS))


def _recortar(texto: str, n: int = 40) -> str:
    return texto if len(texto) <= n else texto[:n] + "…"


def _vacio(v: Any) -> bool:
    return v is None or (type(v) is str and not v.strip())


def interpretar(
    encabezado: Encabezado, fila: int, valores: list[Any], opciones: OpcionesLectura
) -> ContactoLeido | FilaRechazada | None:
    """Turn one data row into a contact or a rejection naming the field; None for a blank row."""
    n = len(valores)
    columnas = encabezado.columnas
    if n > columnas and not all(_vacio(v) for v in valores[columnas:]):
        return FilaRechazada(
            fila,
            "fila",
            f"la fila tiene {n} columnas y el encabezado {columnas} "
            "(¿una coma o punto y coma sin comillas dentro de un valor?)",
        )
    if n < columnas:
        valores = list(valores) + [None] * (columnas - n)
    crudo = valores[encabezado.i_telefono]
    if crudo is None or crudo == "" or (type(crudo) is str and crudo.isspace()):
        if all(_vacio(v) for v in valores):
            return None
        return FilaRechazada(fila, "telefono", "el teléfono está vacío")
    tel = telefonos.normalizar(crudo, pais=opciones.pais, solo_moviles=opciones.solo_moviles)
    if type(tel) is telefonos.Rechazo:
        return FilaRechazada(fila, "telefono", tel.motivo, _recortar(_texto_celda(crudo), 60))

    nombre: str | None = None
    i = encabezado.i_nombre
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        nombre = _texto_celda(valores[i])
    if encabezado.apellidos:
        partes = [nombre] if nombre else []
        partes.extend(_texto_celda(valores[j]) for j in encabezado.apellidos if not _vacio(valores[j]))
        nombre = " ".join(partes) or None
    if nombre is not None:
        nombre = " ".join(nombre.split())
        if len(nombre) > MAX_NOMBRE:
            return FilaRechazada(fila, "nombre", f"el nombre tiene {len(nombre)} caracteres (máximo {MAX_NOMBRE})")

    monto: str | None = None
    i = encabezado.i_monto
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        resultado = _monto(valores[i].strip() if type(valores[i]) is str else valores[i])
        if type(resultado) is FilaRechazada:
            resultado.fila = fila
            return resultado
        monto = resultado  # type: ignore[assignment]

    nss: str | None = None
    i = encabezado.i_nss
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        nss = _texto_celda(valores[i]).strip().replace(" ", "").replace("-", "")
        if not (len(nss) == 11 and nss.isdigit() and nss.isascii()):
            pista = " (¿la hoja de cálculo quitó un cero inicial?)" if nss.isdigit() and len(nss) == 10 else ""
            return FilaRechazada(fila, "nss", f"el NSS debe tener 11 dígitos{pista}")

    curp: str | None = None
    i = encabezado.i_curp
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        curp = _texto_celda(valores[i]).replace(" ", "").upper()
        if not _CURP.fullmatch(curp):
            return FilaRechazada(fila, "curp", "la CURP no tiene el formato de 18 caracteres")

    tipo_credito: str | None = None
    i = encabezado.i_tipo_credito
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        tipo_credito = _texto_celda(valores[i]).strip()[:MAX_TEXTO]

    datos: dict[str, Any] = {}
    estado = zona = None
    i = encabezado.i_estado
    if i is not None and (v := valores[i]) is not None and v != "" and not (type(v) is str and v.isspace()):
        texto_estado = _texto_celda(valores[i]).strip()
        estado = _estado(texto_estado)
        if estado is None:
            # Not a state (maybe a status column called 'estado'): keep it for templates, no time zone.
            datos["estado"] = texto_estado[:MAX_EXTRA]
        else:
            zona = estados.ZONAS[estado]

    for clave, i in encabezado.extras:
        v = valores[i]
        if v is None:
            continue
        if type(v) is str:
            v = v.strip()
            if not v:
                continue
            if "\x00" in v:
                v = v.replace("\x00", "")
            if len(v) > MAX_EXTRA:
                return FilaRechazada(fila, clave, f"el valor tiene {len(v)} caracteres (máximo {MAX_EXTRA})")
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                continue
            if v.is_integer() and abs(v) < 1e16:
                v = int(v)
        elif isinstance(v, datetime | date | time):
            v = v.isoformat()
        elif not isinstance(v, int | bool):
            v = str(v)
        datos[clave] = v

    return ContactoLeido(fila, tel.canonico, nombre, monto, nss, curp, tipo_credito, estado, zona, datos)  # type: ignore[union-attr]


@lru_cache(maxsize=2048)
def _estado(texto: str) -> str | None:
    return estados.estado_canonico(texto)


# ---------------------------------------------------------------------------------------------------------------
# Files

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"


def _detectar_codificacion(archivo: IO[bytes]) -> str:
    """'utf-8-sig', 'utf-16', 'utf-8', 'cp1252' or 'latin-1', scanning the whole file in chunks (C speed)."""
    archivo.seek(0)
    inicio = archivo.read(4)
    archivo.seek(0)
    if inicio.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if inicio.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for codificacion in ("utf-8", "cp1252"):
        decodificador = codecs.getincrementaldecoder(codificacion)("strict")
        archivo.seek(0)
        try:
            while bloque := archivo.read(1 << 20):
                decodificador.decode(bloque)
            decodificador.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        else:
            return codificacion
        finally:
            archivo.seek(0)
    return "latin-1"


def _parece_texto(muestra: str) -> bool:
    if not muestra:
        return True
    control = sum(1 for c in muestra if (c < " " and c not in "\t\r\n") or "\x7f" <= c < "\xa0")
    return control <= max(2, len(muestra) // 200)


def _detectar_delimitador(muestra: str) -> str:
    """The delimiter that splits the first lines into the most columns, consistently."""
    lineas = muestra.splitlines()[:30]
    if len(lineas) > 1 and not muestra.endswith(("\n", "\r")):
        lineas = lineas[:-1]  # the sample may cut the last line
    mejor, mejor_puntaje = ",", (0, 0.0, 0)
    for delimitador in (",", ";", "\t", "|"):
        try:
            filas = [f for f in csv.reader(lineas, delimiter=delimitador) if any(c.strip() for c in f)]
        except csv.Error:
            continue
        if not filas:
            continue
        anchos = [len(f) for f in filas]
        varias = [a for a in anchos if a > 1]
        if not varias:
            continue
        comun = max(set(varias), key=lambda a: (varias.count(a), a))
        puntaje = (1, anchos.count(comun) / len(anchos), comun)
        if puntaje > mejor_puntaje:
            mejor, mejor_puntaje = delimitador, puntaje
    return mejor


class Lector:
    """Iterates (row number, values) over a file without loading it; `progreso()` is the fraction read."""

    formato: str
    codificacion: str | None = None
    delimitador: str | None = None

    def __init__(self, archivo: IO[bytes], tamano: int) -> None:
        self._archivo = archivo
        self.tamano = tamano
        self.encabezado: Encabezado | None = None
        self._filas: Iterator[tuple[int, list[Any]]] = iter(())
        self._total_estimado: int | None = None
        self._leidas = 0

    def progreso(self) -> float:
        return 0.0

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        return self._filas

    def _ubicar_encabezado(self, filas: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
        """Consume rows until the header (the first row naming a phone column); return the rest."""
        vistas = 0
        primera: list[str] | None = None
        for numero, valores in filas:
            if not any(v is not None and str(v).strip() for v in valores):
                continue
            if len(valores) > MAX_COLUMNAS:
                raise ErrorLectura(f"la fila {numero} tiene {len(valores)} columnas (máximo {MAX_COLUMNAS})", numero)
            if primera is None:
                primera = [_texto_celda(v) for v in valores]
            encabezado = mapear_encabezado(valores, numero)
            if encabezado is not None:
                self.encabezado = encabezado
                return filas
            vistas += 1
            if vistas >= MAX_FILAS_ANTES_ENCABEZADO:
                break
        if primera is None:
            raise ErrorLectura("el archivo no tiene filas: está vacío o solo tiene celdas en blanco")
        columnas = ", ".join(_recortar(c, 30) for c in primera[:12] if c.strip()) or "(vacío)"
        raise ErrorLectura(
            "no encontré la columna de teléfono. La primera fila debe ser el encabezado con una columna "
            f"'telefono', 'celular', 'whatsapp' o 'movil'; encontré: {_recortar(columnas, 300)}"
        )

    def cerrar(self) -> None:
        self._archivo.close()

    def __enter__(self) -> Lector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cerrar()


class LectorCSV(Lector):
    formato = "csv"

    def __init__(self, archivo: IO[bytes], tamano: int) -> None:
        super().__init__(archivo, tamano)
        self.codificacion = _detectar_codificacion(archivo)
        archivo.seek(0)
        texto = io.TextIOWrapper(archivo, encoding=self.codificacion, newline="", errors="strict")
        try:
            muestra = texto.read(_MUESTRA)
        except UnicodeDecodeError as exc:
            raise ErrorLectura(f"el archivo no se puede leer como texto ({self.codificacion})") from exc
        if not _parece_texto(muestra):
            raise ErrorLectura(
                "el archivo no parece un CSV de texto (¿es un archivo binario o de otro programa?). "
                "Exporta la hoja como CSV o sube el .xlsx"
            )
        self.delimitador = _detectar_delimitador(muestra)
        texto.seek(0)
        self._texto = texto
        self._filas = self._ubicar_encabezado(self._leer())

    def _leer(self) -> Iterator[tuple[int, list[Any]]]:
        lector = csv.reader(self._texto, delimiter=self.delimitador or ",", strict=False)
        numero = 0
        while True:
            try:
                valores = next(lector)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ErrorLectura(
                    f"fila {numero + 1}: el CSV está mal formado ({_error_csv(exc)}). "
                    "Revisa comillas sin cerrar cerca de esa fila",
                    numero + 1,
                ) from exc
            except UnicodeDecodeError as exc:
                raise ErrorLectura(f"fila {numero + 1}: texto con codificación inválida", numero + 1) from exc
            numero += 1
            yield numero, valores

    def progreso(self) -> float:
        if not self.tamano:
            return 1.0
        try:
            return min(1.0, self._archivo.tell() / self.tamano)
        except (OSError, ValueError):
            return 0.0

    def cerrar(self) -> None:
        try:
            self._texto.detach()
        except ValueError:
            pass
        super().cerrar()


def _error_csv(exc: csv.Error) -> str:
    texto = str(exc)
    if "field larger than field limit" in texto:
        return f"un campo supera {MAX_CAMPO:,} caracteres".replace(",", " ")
    return texto


_DEMASIADO = "el XLSX se expande demasiado al descomprimirlo ({}). Guárdalo como CSV o divídelo en varios archivos"


def revisar_xlsx(zf: zipfile.ZipFile, tamano: int) -> None:
    """Refuse an XLSX whose parts would take unbounded memory or time to read (see the bounds above)."""
    partes = zf.infolist()
    total = sum(i.file_size for i in partes)
    tope = min(MAX_XLSX_DESCOMPRIMIDO, max(XLSX_DESCOMPRIMIDO_MIN, XLSX_RAZON * tamano))
    if total > tope:
        raise ErrorLectura(_DEMASIADO.format(f"{total // 1024**2} MB"))
    for info in partes:
        es_hoja = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        if not es_hoja and info.file_size > MAX_XLSX_PARTE:
            raise ErrorLectura(_DEMASIADO.format(f"{info.filename}: {info.file_size // 1024**2} MB"))
    try:
        cadenas = zf.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return
    tope_cadenas = min(MAX_XLSX_CADENAS, max(10_000, cadenas.compress_size))
    contadas = 0
    # Streamed and cleared as it goes: counting costs no memory whatever the part holds.
    raiz = None
    with zf.open(cadenas) as parte:
        for evento, elemento in ElementTree.iterparse(parte, events=("start", "end")):
            if raiz is None:
                raiz = elemento
            if evento == "end" and (elemento.tag.endswith("}si") or elemento.tag == "si"):
                contadas += 1
                if contadas > tope_cadenas:
                    raise ErrorLectura(_DEMASIADO.format(f"más de {tope_cadenas:,} textos distintos".replace(",", " ")))
                raiz.clear()


class LectorXLSX(Lector):
    formato = "xlsx"

    def __init__(self, archivo: IO[bytes], tamano: int) -> None:
        super().__init__(archivo, tamano)
        import openpyxl  # imported here: only XLSX uploads pay for it

        try:
            with zipfile.ZipFile(archivo) as zf:
                revisar_xlsx(zf, tamano)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, ElementTree.ParseError) as exc:
            raise ErrorLectura("el archivo XLSX está dañado (no es un zip válido)") from exc
        archivo.seek(0)
        try:
            self._libro = openpyxl.load_workbook(archivo, read_only=True, data_only=True)
            hojas = self._libro.worksheets
            if not hojas:
                raise ErrorLectura("el archivo XLSX no tiene hojas")
            self._hoja = hojas[0]
            # A forged <dimension> (A1:XFD1048576) would pad every row to 16,384 cells: trust the rows instead.
            self._hoja.reset_dimensions()
            try:
                self._total_estimado = self._hoja.max_row
            except Exception:
                self._total_estimado = None
        except ErrorLectura:
            raise
        except Exception as exc:
            raise ErrorLectura(
                "no pude abrir el XLSX (¿está dañado o es otro formato?). Ábrelo en Excel y guárdalo de nuevo"
            ) from exc
        self._filas = self._ubicar_encabezado(self._leer())

    def _leer(self) -> Iterator[tuple[int, list[Any]]]:
        numero = 0
        try:
            for fila in self._hoja.iter_rows(values_only=True):
                numero += 1
                self._leidas = numero
                yield numero, list(fila)
        except ErrorLectura:
            raise
        except Exception as exc:
            raise ErrorLectura(f"fila {numero + 1}: la hoja del XLSX está dañada", numero + 1) from exc

    def progreso(self) -> float:
        if not self._total_estimado:
            return 0.0
        return min(1.0, self._leidas / self._total_estimado)

    def cerrar(self) -> None:
        try:
            self._libro.close()
        except Exception:
            pass
        super().cerrar()


def abrir(origen: str | Path | IO[bytes]) -> Lector:
    """Open a portfolio file by content (not by extension). Raises ErrorLectura with a Spanish message."""
    csv.field_size_limit(MAX_CAMPO)
    archivo: IO[bytes] = open(origen, "rb") if isinstance(origen, str | Path) else origen
    try:
        archivo.seek(0, io.SEEK_END)
        tamano = archivo.tell()
        archivo.seek(0)
        if tamano == 0:
            raise ErrorLectura("el archivo está vacío")
        inicio = archivo.read(8)
        archivo.seek(0)
        if inicio.startswith(_ZIP):
            return LectorXLSX(archivo, tamano)
        if inicio.startswith(_OLE):
            raise ErrorLectura("los archivos de Excel 97-2003 (.xls) no se admiten: guárdalo como .xlsx o CSV")
        return LectorCSV(archivo, tamano)
    except BaseException:
        archivo.close()
        raise
