// The panel's look: a calm green brand, compact tables for dense screens, system fonts.
import { createTheme, type MantineColorsTuple } from "@mantine/core";

const enlace: MantineColorsTuple = [
  "#e6f7f1",
  "#d2ede3",
  "#a6d9c6",
  "#76c4a7",
  "#4fb28d",
  "#36a77d",
  "#25a174",
  "#138c62",
  "#067d56",
  "#006c48",
];

export const tema = createTheme({
  primaryColor: "enlace",
  colors: { enlace },
  primaryShade: 8,
  defaultRadius: "md",
  fontFamily:
    'Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif',
  headings: { fontWeight: "650" },
  cursorType: "pointer",
  focusRing: "auto",
  // Filled buttons and badges pick white or black text by the background, whatever the colour (WCAG AA).
  autoContrast: true,
  luminanceThreshold: 0.4,
  components: {
    // Every icon-only control says what it does (screen readers read «Cerrar», not «button»).
    Modal: { defaultProps: { closeButtonProps: { "aria-label": "Cerrar" } } },
    Drawer: { defaultProps: { closeButtonProps: { "aria-label": "Cerrar" } } },
    CloseButton: { defaultProps: { "aria-label": "Cerrar" } },
    PasswordInput: { defaultProps: { visibilityToggleButtonProps: { "aria-label": "Mostrar u ocultar lo escrito" } } },
    Select: { defaultProps: { nothingFoundMessage: "Sin resultados", comboboxProps: { withinPortal: true } } },
    Table: { defaultProps: { verticalSpacing: "xs", highlightOnHover: true } },
    Card: { defaultProps: { withBorder: true, padding: "lg" } },
    Paper: { defaultProps: { withBorder: true } },
  },
});
