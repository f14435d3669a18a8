import { Encabezado } from "../../componentes/comunes";

export default function Auditoria() {
  return <Encabezado titulo="Auditoria" />;
}
