// A form that validates with the panel's own Spanish messages instead of the browser's (which follow the
// browser's language): empty required fields and out-of-range numbers are named, the first one focused.
import { useState, type FormEvent, type ReactNode } from "react";
import { Alert } from "@mantine/core";
import { IconAlertCircle } from "@tabler/icons-react";

function etiquetaDe(campo: HTMLElement): string {
  const id = campo.getAttribute("id");
  const etiqueta = id ? campo.ownerDocument.querySelector(`label[for="${CSS.escape(id)}"]`) : null;
  const texto = (etiqueta?.textContent ?? campo.getAttribute("aria-label") ?? campo.getAttribute("name") ?? "este campo").replace(/\s*\*\s*$/, "");
  return texto.trim();
}

/** Spanish problems with the form's fields, in order; empty when it can be sent. */
export function revisarCampos(form: HTMLFormElement): { campo: HTMLElement; mensaje: string }[] {
  const problemas: { campo: HTMLElement; mensaje: string }[] = [];
  for (const el of Array.from(form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea"))) {
    if (el.disabled || el.type === "hidden" || el.type === "checkbox" || el.type === "radio") continue;
    const valor = el.value.trim();
    const nombre = etiquetaDe(el);
    const requerido = el.required || el.getAttribute("aria-required") === "true" || el.dataset.requerido === "true";
    if (requerido && !valor) {
      problemas.push({ campo: el, mensaje: `Falta «${nombre}».` });
      continue;
    }
    const min = el.getAttribute("minlength");
    if (valor && min && valor.length < Number(min)) problemas.push({ campo: el, mensaje: `«${nombre}» necesita al menos ${min} caracteres.` });
  }
  return problemas;
}

export function Formulario({
  alEnviar,
  children,
  etiqueta,
}: {
  alEnviar: (e: FormEvent<HTMLFormElement>) => void | Promise<void>;
  children: ReactNode;
  etiqueta?: string;
}) {
  const [problemas, setProblemas] = useState<string[]>([]);
  return (
    <form
      noValidate
      aria-label={etiqueta}
      onSubmit={(e) => {
        e.preventDefault();
        const p = revisarCampos(e.currentTarget);
        setProblemas(p.map((x) => x.mensaje));
        for (const x of p) x.campo.setAttribute("aria-invalid", "true");
        if (p.length) {
          p[0].campo.focus();
          return;
        }
        void alEnviar(e);
      }}
      onInput={(e) => {
        const t = e.target as HTMLElement;
        if (t.getAttribute("aria-invalid") === "true") t.removeAttribute("aria-invalid");
      }}
    >
      {problemas.length > 0 && (
        <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert" mb="sm" data-testid="errores-formulario">
          {problemas.join(" ")}
        </Alert>
      )}
      {children}
    </form>
  );
}
