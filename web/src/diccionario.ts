// Codes the server stores (audit actions, compliance rules, realtime events, settings keys) in the Spanish
// a person reads. Unknown codes fall back to a readable version of the code, never raw JSON.

export const ACCIONES_AUDITORIA: Record<string, string> = {
  "auth.login": "Inició sesión",
  "auth.login_fallido": "Intento de inicio de sesión fallido",
  "auth.logout": "Cerró sesión",
  "auth.password": "Cambió su contraseña",
  "usuario.crear": "Creó un usuario",
  "usuario.actualizar": "Modificó un usuario",
  "token.crear": "Creó un token de API",
  "token.revocar": "Revocó un token de API",
  "agente.actualizar": "Modificó un agente",
  "equipo.crear": "Creó un equipo",
  "equipo.actualizar": "Modificó un equipo",
  "contacto.transferir": "Transfirió un contacto a la línea oficial",
  "contacto.consentimiento": "Registró el consentimiento de un contacto",
  "captura.alcance": "Cambió el alcance de captura",
  "supresion.exportar": "Exportó la lista de supresión",
  "arco.exportar": "Exportó los datos de un titular (ARCO)",
  "arco.cancelar": "Canceló los datos de un titular (ARCO)",
  "retencion.aplicar": "Aplicó la retención de mensajes",
  "ajuste.cambiar": "Cambió un ajuste de cumplimiento",
  "usuarios.crear": "Creó un usuario",
  "usuarios.actualizar": "Modificó un usuario",
  "usuarios.desactivar": "Desactivó un usuario",
  "equipos.crear": "Creó un equipo",
  "equipos.actualizar": "Modificó un equipo",
  "tokens.crear": "Creó un token de API",
  "tokens.revocar": "Revocó un token de API",
  "reportes.exportar": "Exportó la bitácora de mensajes",
  "campana.crear": "Creó una campaña",
  "campana.iniciar": "Lanzó una campaña",
  "campana.estado": "Cambió el estado de una campaña",
  "campana.pausar": "Pausó una campaña",
  "campana.reanudar": "Reanudó una campaña",
  "campana.cancelar": "Canceló una campaña",
  "cartera.subir": "Subió una cartera",
  "cartera.auto_asignar": "Tomó contactos del pool",
  "cartera.reasignar": "Reasignó contactos",
  "sesion.conectar": "Inició la vinculación de WhatsApp",
  "sesion.desconectar": "Desconectó su WhatsApp",
  "sesion.desvincular": "Desvinculó su WhatsApp",
  "sesion.codigo": "Pidió un código de emparejamiento",
  "supresion.agregar": "Agregó un número a la lista de supresión",
  "supresion.quitar": "Quitó un número de la lista de supresión",
  "supresion.importar": "Importó una lista de supresión",
  "supresiones.agregar": "Agregó un número a la lista de supresión",
  "supresiones.quitar": "Quitó un número de la lista de supresión",
  "supresiones.importar": "Importó una lista de supresión",
  "supresiones.exportar": "Exportó la lista de supresión",
  "configuracion.actualizar": "Cambió la configuración de cumplimiento",
  "cumplimiento.configurar": "Cambió la configuración de cumplimiento",
  "perfiles.crear": "Creó un perfil de envío",
  "perfiles.actualizar": "Modificó un perfil de envío",
  "perfiles.borrar": "Borró un perfil de envío",
  "webhooks.crear": "Creó un webhook",
  "webhooks.actualizar": "Modificó un webhook",
  "webhooks.borrar": "Borró un webhook",
  "webhooks.reenviar": "Reenvió una entrega de webhook",
  "envios.parada_reanudar": "Reanudó envíos tras una parada de seguridad",
  "envios.reanudar": "Reanudó envíos tras una parada de seguridad",
  "conversaciones.ver": "Abrió una conversación",
  "contacto.historial": "Consultó el historial de un contacto",
};

export const OBJETOS: Record<string, string> = {
  usuario: "usuario",
  equipo: "equipo",
  token: "token",
  campana: "campaña",
  cartera: "cartera",
  contacto: "contacto",
  sesion: "sesión",
  agente: "agente",
  supresion: "supresión",
  perfil: "perfil",
  webhook: "webhook",
  configuracion: "configuración",
  parada: "parada",
  reporte: "reporte",
};

export const REGLAS: Record<string, string> = {
  dar_de_baja: "Pidió no recibir más mensajes",
  baja: "Pidió no recibir más mensajes",
  no_interesado: "Dijo que no le interesa",
  supresion: "Está en la lista de supresión",
  suprimido: "Está en la lista de supresión",
  lista_supresion: "Está en la lista de supresión",
  frecuencia: "Ya recibió el máximo de mensajes del periodo",
  tope_frecuencia: "Ya recibió el máximo de mensajes del periodo",
  horario: "Fuera del horario de contacto",
  fuera_de_horario: "Fuera del horario de contacto",
  queja: "Se quejó o reportó el mensaje",
  insulto: "Respondió con una queja o insulto",
  ninguna: "Sin regla",
  neutral: "Respuesta normal",
  interes: "Mostró interés",
};

export const EVENTOS: Record<string, string> = {
  "mensaje.enviado": "Mensaje enviado",
  "mensaje.estado": "Cambio de estado de un mensaje",
  "mensaje.recibido": "Mensaje recibido",
  "mensaje.entregado": "Mensaje entregado",
  "mensaje.leido": "Mensaje leído",
  "mensaje.fallido": "Mensaje fallido",
  "contacto.baja": "Un contacto pidió la baja",
  "contacto.respondio": "Un contacto respondió",
  "campana.progreso": "Avance de campaña",
  "campana.completada": "Campaña terminada",
  "campana.iniciada": "Campaña lanzada",
  "sesion.estado": "Cambio de estado de la sesión de WhatsApp",
  "sesion.qr": "Nuevo código QR",
  "envio.parada": "Parada de seguridad",
  "webhook.prueba": "Prueba de webhook",
};

export const CAMPOS: Record<string, string> = {
  telefono: "Teléfono",
  nombre: "Nombre",
  monto: "Monto",
  fecha: "Fecha",
  estado: "Estado",
  email: "Correo",
  tipo_credito: "Tipo de crédito",
  nss: "NSS",
  curp: "CURP",
  motivo: "Motivo",
  rol: "Rol",
  equipo_id: "Equipo",
  equipoId: "Equipo",
  password: "Contraseña",
  usuario: "Usuario",
  activo: "Activo",
  por_hora_max: "Máximo por hora",
  por_dia_max: "Máximo por día",
  hora_inicio: "Hora de inicio",
  hora_fin: "Hora de fin",
  alcance: "Alcance de captura",
  frecuencia_max_mensajes: "Mensajes por número",
  frecuencia_dias: "Periodo (días)",
  hora_min_contacto: "Hora mínima de contacto",
  hora_max_contacto: "Hora máxima de contacto",
  retencion_dias: "Retención (días)",
  confirmar_baja: "Confirmar la baja",
  config: "Configuración",
  url: "URL",
  eventos: "Eventos",
  nombre_equipo: "Equipo",
  ajuste: "Ajuste",
  anterior: "Antes",
  nuevo: "Ahora",
  filas: "Filas",
  fuente: "Origen",
  usuario_id: "Usuario",
  agente_id: "Agente",
  campana_id: "Campaña",
  cartera_id: "Cartera",
  mensajes: "Mensajes",
  omitidos: "Omitidos",
  asignados: "Asignados",
  cantidad: "Cantidad",
  archivo: "Archivo",
  filtros: "Filtros",
  formato: "Formato",
  desde: "Desde",
  hasta: "Hasta",
  total: "Total",
};

function legible(codigo: string): string {
  const t = codigo.replace(/[._]+/g, " ").trim();
  return t.charAt(0).toUpperCase() + t.slice(1).toLowerCase();
}

export function textoAccion(codigo: string): string {
  return ACCIONES_AUDITORIA[codigo] ?? legible(codigo);
}
export function textoRegla(codigo: string | null | undefined): string {
  if (!codigo) return "—";
  return REGLAS[codigo] ?? legible(codigo);
}
export function textoEvento(codigo: string): string {
  return EVENTOS[codigo.toLowerCase()] ?? legible(codigo);
}
export function textoCampo(codigo: string): string {
  const ultimo = codigo.split(".").pop() ?? codigo;
  return CAMPOS[codigo] ?? CAMPOS[ultimo] ?? legible(ultimo);
}
export function textoObjeto(tipo: string | null | undefined): string {
  return tipo ? OBJETOS[tipo] ?? legible(tipo) : "";
}

/** An audit/detail object as short Spanish prose: «Monto: 25,000; Estado: activa» (never raw JSON). */
export function textoDetalle(detalle: unknown): string {
  if (detalle === null || detalle === undefined || detalle === "") return "";
  if (typeof detalle !== "object") return String(detalle);
  if (Array.isArray(detalle)) return detalle.map(textoDetalle).filter(Boolean).join(", ");
  const partes: string[] = [];
  for (const [k, v] of Object.entries(detalle as Record<string, unknown>)) {
    if (v === null || v === undefined || v === "") continue;
    let valor: string;
    if (typeof v === "boolean") valor = v ? "sí" : "no";
    else if (typeof v === "object") valor = textoDetalle(v);
    else valor = String(v);
    if (k === "accion") valor = textoAccion(valor);
    if (k === "regla") valor = textoRegla(valor);
    partes.push(`${textoCampo(k)}: ${valor}`);
  }
  return partes.join(" · ");
}

/** «1 número», «3 números». */
export function plural(n: number, uno: string, varios: string): string {
  return `${new Intl.NumberFormat("es-MX").format(n)} ${n === 1 ? uno : varios}`;
}

/** Server messages name fields by their code («config.por_hora_max: …», «telefono: …»): show the field's name. */
export function humanizarMensaje(mensaje: string): string {
  return mensaje.replace(/(^|[—;:(]\s*)([a-zA-Z][a-zA-Z_]*(?:\.[a-zA-Z_0-9]+)*): /g, (todo, antes: string, codigo: string) => {
    const ultimo = codigo.split(".").pop() ?? codigo;
    const conocido = codigo in CAMPOS || ultimo in CAMPOS;
    if (!conocido && !/[._]/.test(codigo)) return todo; // an ordinary word before a colon
    return `${antes}${textoCampo(codigo)}: `;
  });
}
