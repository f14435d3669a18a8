// The panel's own date and time inputs (Mantine's pickers in Spanish, Monday first, 24 h), instead of the
// browser's native ones, which follow the browser's language and cut «p. m.» into «PI».
import type { ReactNode } from "react";
import { DatePickerInput, DatesProvider, DateTimePicker, TimePicker } from "@mantine/dates";
import "@mantine/dates/styles.css";
import "dayjs/locale/es";

const AJUSTES = { locale: "es", firstDayOfWeek: 1 as const, weekendDays: [0, 6] as (0 | 6)[] };
const ETIQUETAS = { nextLabel: "Mes siguiente", previousLabel: "Mes anterior" };

function Espanol({ children }: { children: ReactNode }) {
  return <DatesProvider settings={AJUSTES}>{children}</DatesProvider>;
}

interface Base {
  label: string;
  description?: ReactNode;
  error?: ReactNode;
  w?: number | string;
  required?: boolean;
  testId?: string;
}

/** A calendar day as "AAAA-MM-DD" ("" when empty), shown as 23/11/2026. */
export function CampoFecha({ value, onChange, minDate, maxDate, ...b }: Base & { value: string; onChange: (v: string) => void; minDate?: string; maxDate?: string }) {
  return (
    <Espanol>
      <DatePickerInput
        label={b.label}
        description={b.description}
        error={b.error}
        w={b.w}
        withAsterisk={b.required}
        value={value || null}
        onChange={(v) => onChange(v ? String(v).slice(0, 10) : "")}
        valueFormat="DD/MM/YYYY"
        placeholder="dd/mm/aaaa"
        clearable
        minDate={minDate}
        maxDate={maxDate}
        data-testid={b.testId}
        clearButtonProps={{ "aria-label": `Borrar ${b.label.toLowerCase()}` }}
        {...ETIQUETAS}
      />
    </Espanol>
  );
}

/** A moment as "AAAA-MM-DD HH:mm:ss" in Mexico City time ("" when empty), shown as 23/11/2026 09:00. */
export function CampoFechaHora({ value, onChange, minDate, ...b }: Base & { value: string; onChange: (v: string) => void; minDate?: string }) {
  return (
    <Espanol>
      <DateTimePicker
        label={b.label}
        description={b.description}
        error={b.error}
        w={b.w}
        withAsterisk={b.required}
        value={value || null}
        onChange={(v) => onChange(v ? String(v) : "")}
        valueFormat="DD/MM/YYYY HH:mm"
        placeholder="dd/mm/aaaa hh:mm"
        clearable
        minDate={minDate}
        data-testid={b.testId}
        timePickerProps={{ format: "24h", hoursInputLabel: "Hora", minutesInputLabel: "Minutos" }}
        submitButtonProps={{ "aria-label": "Aceptar fecha y hora" }}
        clearButtonProps={{ "aria-label": `Borrar ${b.label.toLowerCase()}` }}
        {...ETIQUETAS}
      />
    </Espanol>
  );
}

/** A time of day as "HH:MM" (24 h). */
export function CampoHora({ value, onChange, ...b }: Base & { value: string; onChange: (v: string) => void }) {
  return (
    <TimePicker
      label={b.label}
      description={b.description}
      error={b.error}
      w={b.w}
      withAsterisk={b.required}
      value={value}
      onChange={(v) => onChange(v ? v.slice(0, 5) : "")}
      format="24h"
      hoursInputLabel={`${b.label}: hora`}
      minutesInputLabel={`${b.label}: minutos`}
      hoursPlaceholder="hh"
      minutesPlaceholder="mm"
      data-testid={b.testId}
    />
  );
}
