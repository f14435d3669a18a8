// The shared layout: header with the user and the live-connection state, role navigation, the page.
import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Text, Title, Tooltip } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import {
  IconAddressBook,
  IconBrandWhatsapp,
  IconChartBar,
  IconClipboardList,
  IconInbox,
  IconKey,
  IconLayoutDashboard,
  IconListDetails,
  IconLogout,
  IconMessages,
  IconSend,
  IconSettings,
  IconShieldOff,
  IconUsers,
  IconWebhook,
  IconGauge,
} from "@tabler/icons-react";
import type { ReactNode } from "react";
import { NavLink as EnlaceRuta, Outlet, useLocation, useNavigate } from "react-router";
import { NOMBRE_ROL, useSesion, useUsuario, type Rol } from "../auth/sesion";
import { useTiempoReal } from "../tiempo_real/socket";

interface Entrada {
  ruta: string;
  etiqueta: string;
  icono: ReactNode;
  roles: Rol[];
}

const I = { size: 18, stroke: 1.7 } as const;

const SECCIONES: { titulo: string; entradas: Entrada[] }[] = [
  {
    titulo: "Mi trabajo",
    entradas: [
      { ruta: "/whatsapp", etiqueta: "Conectar WhatsApp", icono: <IconBrandWhatsapp {...I} />, roles: ["agente"] },
      { ruta: "/carteras", etiqueta: "Carteras", icono: <IconAddressBook {...I} />, roles: ["agente"] },
      { ruta: "/campanas", etiqueta: "Campañas", icono: <IconSend {...I} />, roles: ["agente"] },
      { ruta: "/bandeja", etiqueta: "Bandeja", icono: <IconInbox {...I} />, roles: ["agente"] },
    ],
  },
  {
    titulo: "Supervisión",
    entradas: [
      { ruta: "/muro", etiqueta: "Muro de agentes", icono: <IconLayoutDashboard {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/campanas", etiqueta: "Campañas", icono: <IconSend {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/mensajes", etiqueta: "Bitácora de mensajes", icono: <IconListDetails {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/bandeja", etiqueta: "Conversaciones", icono: <IconMessages {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/carteras", etiqueta: "Carteras", icono: <IconAddressBook {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/graficas", etiqueta: "Gráficas", icono: <IconChartBar {...I} />, roles: ["supervisor", "admin"] },
      { ruta: "/lineas-oficiales", etiqueta: "Líneas oficiales", icono: <IconBrandWhatsapp {...I} />, roles: ["supervisor", "admin"] },
    ],
  },
  {
    titulo: "Administración",
    entradas: [
      { ruta: "/admin/usuarios", etiqueta: "Usuarios y equipos", icono: <IconUsers {...I} />, roles: ["admin"] },
      { ruta: "/admin/perfiles", etiqueta: "Perfiles de envío", icono: <IconGauge {...I} />, roles: ["admin"] },
      { ruta: "/admin/supresiones", etiqueta: "Lista de supresión", icono: <IconShieldOff {...I} />, roles: ["admin"] },
      { ruta: "/admin/configuracion", etiqueta: "Alcance de captura", icono: <IconSettings {...I} />, roles: ["admin"] },
      { ruta: "/admin/webhooks", etiqueta: "Webhooks del CRM", icono: <IconWebhook {...I} />, roles: ["admin"] },
      { ruta: "/admin/tokens", etiqueta: "Tokens de API", icono: <IconKey {...I} />, roles: ["admin"] },
      { ruta: "/admin/auditoria", etiqueta: "Auditoría", icono: <IconClipboardList {...I} />, roles: ["admin"] },
    ],
  },
];

function IndicadorConexion() {
  const { estado } = useTiempoReal();
  const props =
    estado === "conectado"
      ? { color: "green", texto: "En vivo", ayuda: "Recibiendo datos en tiempo real" }
      : estado === "conectando"
        ? { color: "yellow", texto: "Conectando…", ayuda: "Estableciendo la conexión en tiempo real" }
        : { color: "red", texto: "Sin conexión", ayuda: "Reintentando; los datos pueden estar desactualizados" };
  return (
    <Tooltip label={props.ayuda}>
      <Badge color={props.color} variant="dot" size="lg" role="status" aria-live="polite" data-testid="estado-tiempo-real" style={{ flexShrink: 0 }}>
        {props.texto}
      </Badge>
    </Tooltip>
  );
}

export default function Marco() {
  const usuario = useUsuario();
  const { salir } = useSesion();
  const [abierto, { toggle, close }] = useDisclosure();
  const navegar = useNavigate();
  const { pathname } = useLocation();

  const secciones = SECCIONES.map((s) => ({ ...s, entradas: s.entradas.filter((e) => e.roles.includes(usuario.rol)) })).filter(
    (s) => s.entradas.length > 0,
  );

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 250, breakpoint: "sm", collapsed: { mobile: !abierto } }} padding={{ base: "sm", sm: "lg" }}>
      <a href="#contenido" className="saltar-contenido">
        Saltar al contenido
      </a>
      <AppShell.Header>
        <Group h="100%" px={{ base: "xs", sm: "md" }} justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="xs" wrap="nowrap" style={{ flexShrink: 0 }}>
            <Burger opened={abierto} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={abierto ? "Cerrar menú" : "Abrir menú"} />
            <IconMessages size={26} color="var(--mantine-color-enlace-8)" aria-hidden />
            <Title order={1} size="h4">
              Enlace
            </Title>
            <Badge variant="light" visibleFrom="md">
              {NOMBRE_ROL[usuario.rol]}
            </Badge>
          </Group>
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <IndicadorConexion />
            <Text size="sm" fw={500} truncate maw={{ base: 90, sm: 260 }} data-testid="usuario-actual" title={usuario.nombre}>
              {usuario.nombre}
            </Text>
            <Button
              variant="subtle"
              color="dark"
              px={{ base: 6, sm: "sm" }}
              leftSection={<IconLogout size={18} aria-hidden />}
              style={{ flexShrink: 0 }}
              onClick={async () => {
                await salir();
                navegar("/login", { replace: true });
              }}
            >
              Salir
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Navegación principal">
        <AppShell.Section grow component={ScrollArea}>
          {secciones.map((s) => (
            <div key={s.titulo} style={{ marginBottom: 12 }}>
              <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" py={6}>
                {s.titulo}
              </Text>
              {s.entradas.map((e) => (
                <NavLink
                  key={e.ruta + s.titulo}
                  component={EnlaceRuta}
                  to={e.ruta}
                  label={e.etiqueta}
                  leftSection={e.icono}
                  active={pathname === e.ruta || pathname.startsWith(`${e.ruta}/`)}
                  onClick={close}
                  style={{ borderRadius: 8 }}
                />
              ))}
            </div>
          ))}
        </AppShell.Section>
        <AppShell.Section>
          <Text size="xs" c="dimmed" px="sm">
            Sesión: {usuario.usuario} · {NOMBRE_ROL[usuario.rol]}
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="contenido" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
