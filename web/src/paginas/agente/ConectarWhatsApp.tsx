// "Conectar WhatsApp": link the agent's number by QR (redrawn as it changes) or by pairing code, with live state.
import { useEffect, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Grid,
  Group,
  List,
  Loader,
  Paper,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconBrandWhatsapp, IconCircleCheck, IconPlugConnectedX, IconRefresh } from "@tabler/icons-react";
import QRCode from "qrcode";
import { api, datos, mensajeDeError } from "../../api/cliente";
import type { SesionSalida } from "../../api/esquema";
import { useUsuario } from "../../auth/sesion";
import { useEvento } from "../../tiempo_real/socket";
import { Encabezado, ESTADOS_SESION, Insignia } from "../../componentes/comunes";
import { fmtFechaHora, fmtTelefono } from "../../formato";
import { ahoraServidor, useAhora, velocidadReloj } from "../../reloj";
import { useConfirmar } from "../../componentes/Confirmar";
import { Formulario } from "../../componentes/Formulario";

function ImagenQR({ valor }: { valor: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let vivo = true;
    QRCode.toDataURL(valor, { margin: 1, width: 288, errorCorrectionLevel: "L" })
      .then((u) => vivo && setUrl(u))
      .catch(() => vivo && setUrl(null));
    return () => {
      vivo = false;
    };
  }, [valor]);
  if (!url) return <Loader />;
  return <img src={url} width={288} height={288} alt="Código QR para vincular WhatsApp" data-testid="qr-imagen" data-qr={valor} />;
}

/** Seconds left until `hasta` (server time, ms) on the server's clock. */
function useRestante(hasta: number | null): number | null {
  const ahora = useAhora(250);
  // Countdowns are for a person: real seconds, even when the simulator's clock runs faster.
  return hasta === null ? null : Math.max(0, Math.round((hasta - ahora.getTime()) / 1000 / velocidadReloj()));
}

function CuentaRegresiva({ hasta }: { hasta: number | null }) {
  const s = useRestante(hasta);
  if (s === null) return null;
  return (
    <Text size="sm" c="dimmed" aria-live="off">
      {s > 0 ? `El código cambia en ${s} s` : "Actualizando el código…"}
    </Text>
  );
}

function VigenciaCodigo({ hasta }: { hasta: number | null }) {
  const s = useRestante(hasta);
  if (s === null) return <Text size="sm" c="dimmed">El código sirve mientras esta vinculación siga abierta.</Text>;
  const min = Math.floor(s / 60);
  return (
    <Text size="sm" c={s > 30 ? "dimmed" : "red.9"} aria-live="off" data-testid="vigencia-codigo">
      {s > 0 ? `Vence en ${min ? `${min} min ` : ""}${s % 60} s` : "El código venció."}
    </Text>
  );
}

const CODIGO_VENCIDO =
  "El código de emparejamiento venció sin usarse. Pide uno nuevo y escríbelo en tu teléfono antes de que termine la cuenta regresiva.";

export default function ConectarWhatsApp() {
  const usuario = useUsuario();
  const agenteId = usuario.agente_id;
  const cliente = useQueryClient();
  const [modo, setModo] = useState<"qr" | "codigo">("qr");
  const [qr, setQr] = useState<{ valor: string; hasta: number | null } | null>(null);
  const [codigo, setCodigo] = useState<{ valor: string; hasta: number | null } | null>(null);
  // Shown when a link attempt ends unused (the code or QR expired) instead of silently going back to «Desconectada».
  const [vencido, setVencido] = useState<string | null>(null);
  const confirmar = useConfirmar();
  const [telefono, setTelefono] = useState("");
  const [ocupado, setOcupado] = useState(false);

  const consulta = useQuery({
    queryKey: ["sesion", agenteId],
    queryFn: () => datos(api.GET("/api/sesion/{agente_id}", { params: { path: { agente_id: agenteId! } } })),
    enabled: agenteId !== null,
    // While linking, poll as a fallback for the realtime push.
    refetchInterval: (q) => {
      const e = q.state.data?.estado;
      return e === "esperando_qr" || e === "conectando" || e === "reconectando" ? 3000 : 30000;
    },
  });
  const sesion = consulta.data;
  // With capture scope "todo" the agent must see that personal chats are recorded too.
  const alcance = useQuery({
    queryKey: ["alcance-captura"],
    queryFn: () => datos(api.GET("/api/captura/alcance")),
    staleTime: 300_000,
  });
  const estado = sesion?.estado ?? "desconectada";

  // A QR read by polling is used only when the push has not given us one yet.
  useEffect(() => {
    if (sesion?.qr && (!qr || qr.valor !== sesion.qr)) {
      setQr({ valor: sesion.qr, hasta: sesion.qr_expira_at ? new Date(sesion.qr_expira_at).getTime() : null });
    }
    if (sesion?.codigo_emparejamiento && codigo?.valor !== sesion.codigo_emparejamiento) {
      setCodigo({ valor: sesion.codigo_emparejamiento, hasta: sesion.codigo_expira_at ? new Date(sesion.codigo_expira_at).getTime() : null });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sesion?.qr, sesion?.codigo_emparejamiento]);

  useEffect(() => {
    if (estado === "conectada") {
      setQr(null);
      setCodigo(null);
      setVencido(null);
    } else if (estado !== "esperando_qr" && estado !== "conectando" && (codigo || qr)) {
      // The link attempt ended without the phone: say so, and don't leave a dead code on screen.
      // Keep a notice already given (the code's countdown); otherwise the server's reason, or ours.
      setVencido(
        (previo) => previo ?? (codigo ? CODIGO_VENCIDO : sesion?.motivo ?? "El código QR venció sin escanearse. Genera otro para seguir."),
      );
      setQr(null);
      setCodigo(null);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [estado]);

  // The same event carries a new QR or, when linking by phone number, the pairing code.
  useEvento("sesion.qr", (d) => {
    if (d.agente_id !== agenteId) return;
    // `expira_en_s` is real seconds (WhatsApp's figure); on the server's clock that is speed × longer.
    const ahora = ahoraServidor().getTime();
    const hasta = d.expira_en_s ? ahora + d.expira_en_s * 1000 * velocidadReloj() : null;
    if (d.qr && codigo) {
      // A QR in place of the code means a new link attempt: the code typed now would not work.
      setVencido(CODIGO_VENCIDO);
      setCodigo(null);
      if (modo === "codigo") return;
    }
    if (d.qr) setQr({ valor: d.qr, hasta });
    if (d.codigo) setCodigo({ valor: d.codigo, hasta });
    setVencido(null);
    cliente.setQueryData<SesionSalida>(["sesion", agenteId], (s) => (s ? { ...s, estado: "esperando_qr" } : s));
  });

  // The code's countdown reached zero: say so at once, whatever the server does next.
  const ahoraCodigo = useAhora(1000);
  useEffect(() => {
    if (codigo?.hasta && ahoraCodigo.getTime() >= codigo.hasta) {
      setVencido(CODIGO_VENCIDO);
      setCodigo(null);
    }
  }, [ahoraCodigo, codigo]);
  useEvento("sesion.estado", (d) => {
    if (d.agente_id !== agenteId) return;
    cliente.setQueryData<SesionSalida>(["sesion", agenteId], (s) => (s ? { ...s, estado: d.estado, motivo: d.motivo ?? null } : s));
    // The number and times come with the full state: read it again.
    cliente.invalidateQueries({ queryKey: ["sesion", agenteId] });
    if (d.estado === "conectada") notifications.show({ color: "green", title: "WhatsApp conectado", message: "Tu número quedó vinculado." });
  });

  async function conectar() {
    if (agenteId === null) return;
    setOcupado(true);
    setVencido(null);
    try {
      const r = await datos(api.POST("/api/sesion/conectar/{agente_id}", { params: { path: { agente_id: agenteId } } }));
      if (r.qr) setQr({ valor: r.qr, hasta: r.qr_expira_at ? new Date(r.qr_expira_at).getTime() : null });
      cliente.setQueryData<SesionSalida>(["sesion", agenteId], r);
    } catch (e) {
      notifications.show({ color: "red", title: "No se pudo iniciar la vinculación", message: mensajeDeError(e) });
    } finally {
      setOcupado(false);
    }
  }

  async function pedirCodigo(e: FormEvent) {
    e.preventDefault();
    if (agenteId === null) return;
    setOcupado(true);
    try {
      const r = await datos(
        api.POST("/api/sesion/{agente_id}/codigo-emparejamiento", { params: { path: { agente_id: agenteId } }, body: { telefono } }),
      );
      setVencido(null);
      setCodigo({ valor: r.codigo, hasta: r.expira_at ? new Date(r.expira_at).getTime() : null });
      await consulta.refetch();
    } catch (err) {
      notifications.show({ color: "red", title: "No se pudo generar el código", message: mensajeDeError(err) });
    } finally {
      setOcupado(false);
    }
  }

  async function desconectar() {
    if (agenteId === null) return;
    const si = await confirmar({
      titulo: "¿Desvincular tu WhatsApp de Enlace?",
      mensaje:
        "Tus campañas activas dejan de enviar hasta que vuelvas a vincular el número con un código QR nuevo, y dejarás de recibir aquí las respuestas. Los mensajes ya enviados no cambian.",
      confirmar: "Sí, desvincular",
      volver: "No, seguir conectado",
      peligro: true,
    });
    if (!si) return;
    setOcupado(true);
    try {
      await datos(api.POST("/api/sesion/desconectar/{agente_id}", { params: { path: { agente_id: agenteId }, query: { cerrar_sesion: true } } }));
      setQr(null);
      setCodigo(null);
      await consulta.refetch();
    } catch (e) {
      notifications.show({ color: "red", title: "No se pudo desconectar", message: mensajeDeError(e) });
    } finally {
      setOcupado(false);
    }
  }

  if (agenteId === null) {
    return <Alert color="yellow">Tu usuario no tiene un agente asociado. Pide a un administrador que lo configure.</Alert>;
  }

  const vinculando = estado === "esperando_qr" || estado === "conectando" || estado === "reconectando";
  const problema = estado === "reemplazada" || estado === "sesion_cerrada" || estado === "restringida";

  return (
    <>
      <Encabezado
        titulo="Conectar WhatsApp"
        descripcion="Vincula tu número para enviar campañas y recibir respuestas desde Enlace."
        acciones={
          codigo && estado === "esperando_qr" ? (
            <Badge color="yellow" variant="light" size="lg" data-estado="esperando_codigo" data-testid="insignia-sesion">
              Esperando código
            </Badge>
          ) : (
            <Insignia mapa={ESTADOS_SESION} valor={estado} size="lg" />
          )
        }
      />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card data-testid="tarjeta-sesion" data-estado={estado}>
            {estado === "conectada" ? (
              <Stack align="center" py="lg" gap="sm">
                <IconCircleCheck size={56} color="var(--mantine-color-green-7)" aria-hidden />
                <Title order={3}>Tu WhatsApp está conectado</Title>
                <Text size="lg" className="num" data-testid="numero-wa">
                  {fmtTelefono(sesion?.numero_wa ?? null)}
                </Text>
                {sesion?.conectada_at && <Text c="dimmed" size="sm">Desde {fmtFechaHora(sesion.conectada_at)}</Text>}
                <Button variant="light" color="red" leftSection={<IconPlugConnectedX size={18} />} onClick={desconectar} loading={ocupado} mt="md">
                  Desvincular
                </Button>
              </Stack>
            ) : (
              <Stack gap="md">
                {vencido && (
                  <Alert color="yellow" icon={<IconAlertTriangle size={18} aria-hidden />} title="La vinculación venció" role="status" data-testid="aviso-vencido">
                    {vencido}
                  </Alert>
                )}
                {problema && (
                  <Alert color="red" icon={<IconAlertTriangle size={18} />} title={ESTADOS_SESION[estado]?.texto}>
                    {sesion?.motivo ??
                      (estado === "reemplazada"
                        ? "WhatsApp Web se abrió en otro lugar con tu número. Vuelve a vincular si quieres usar Enlace."
                        : estado === "sesion_cerrada"
                          ? "Cerraste la sesión desde tu teléfono. Vuelve a vincular tu número."
                          : "WhatsApp restringió temporalmente tu número. Los envíos están detenidos.")}
                  </Alert>
                )}
                <SegmentedControl
                  value={modo}
                  onChange={(v) => setModo(v as "qr" | "codigo")}
                  data={[
                    { value: "qr", label: "Código QR" },
                    { value: "codigo", label: "Código de emparejamiento" },
                  ]}
                  aria-label="Forma de vincular"
                />
                {modo === "qr" ? (
                  <Stack align="center" gap="sm">
                    <Paper p="md" radius="md" bg="white" miw={320} mih={320} style={{ display: "grid", placeItems: "center" }}>
                      {qr ? (
                        <ImagenQR valor={qr.valor} />
                      ) : vinculando ? (
                        <Stack align="center" gap="xs">
                          <Loader />
                          <Text size="sm" c="dimmed">Generando código QR…</Text>
                        </Stack>
                      ) : (
                        <Stack align="center" gap="xs">
                          <IconBrandWhatsapp size={64} stroke={1.2} color="var(--mantine-color-gray-5)" aria-hidden />
                          <Text size="sm" c="dimmed" ta="center" maw={240}>
                            Pulsa «Generar código QR» y escanéalo con tu teléfono.
                          </Text>
                        </Stack>
                      )}
                    </Paper>
                    {qr && <CuentaRegresiva hasta={qr.hasta} />}
                    <Button leftSection={<IconRefresh size={18} />} onClick={conectar} loading={ocupado} data-testid="boton-conectar">
                      {qr ? "Generar otro código" : "Generar código QR"}
                    </Button>
                  </Stack>
                ) : (
                  <Formulario alEnviar={pedirCodigo}>
                    <Stack>
                      <TextInput
                        label="Tu número de WhatsApp"
                        description="Con lada, por ejemplo 55 1234 5678"
                        value={telefono}
                        onChange={(e) => setTelefono(e.currentTarget.value)}
                        inputMode="tel"
                        autoComplete="tel"
                        required
                      />
                      <Group>
                        <Button type="submit" loading={ocupado}>
                          Obtener código
                        </Button>
                      </Group>
                      {codigo && (
                        <Paper p="md" bg="gray.0">
                          <Text size="sm" c="dimmed">Escribe este código en tu teléfono (WhatsApp → Dispositivos vinculados → Vincular con el número de teléfono):</Text>
                          <Code fz={28} fw={700} style={{ letterSpacing: 6 }} data-testid="codigo-emparejamiento">
                            {codigo.valor}
                          </Code>
                          <VigenciaCodigo hasta={codigo.hasta} />
                        </Paper>
                      )}
                    </Stack>
                  </Formulario>
                )}
              </Stack>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card>
            <Title order={3} size="h5" mb="sm">
              Cómo vincular
            </Title>
            <List type="ordered" spacing="xs" size="sm">
              <List.Item>Abre WhatsApp en tu teléfono.</List.Item>
              <List.Item>Ve a Ajustes → Dispositivos vinculados → Vincular un dispositivo.</List.Item>
              <List.Item>Apunta la cámara al código QR, o elige «Vincular con el número de teléfono» y escribe el código.</List.Item>
            </List>
            <Alert color="yellow" variant="light" mt="md" title="Importante">
              Enviar mensajes automatizados desde un número personal va contra los términos de WhatsApp y puede causar el
              bloqueo del número. Enlace respeta ritmos humanos, bajas y horarios para reducir ese riesgo.
            </Alert>
            {alcance.data && (
              <Alert
                color={alcance.data.alcance === "todo" ? "blue" : "gray"}
                variant="light"
                mt="md"
                title={alcance.data.alcance === "todo" ? "Aviso de privacidad: se guardan todas tus conversaciones" : "Privacidad"}
                data-testid="aviso-captura"
              >
                {alcance.data.aviso}
              </Alert>
            )}
            <Group mt="md" gap="xs">
              <Text size="sm" c="dimmed">Estado:</Text>
              <Badge variant="outline" data-testid="estado-sesion">
                {codigo && estado === "esperando_qr" ? "Esperando código" : ESTADOS_SESION[estado]?.texto ?? estado}
              </Badge>
            </Group>
          </Card>
        </Grid.Col>
      </Grid>
    </>
  );
}
