import { Encabezado } from "../../componentes/comunes";

export default function Configuracion() {
  return <Encabezado titulo="Configuracion" />;
}
