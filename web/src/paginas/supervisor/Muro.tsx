import { Encabezado } from "../../componentes/comunes";

export default function Muro() {
  return <Encabezado titulo="Muro" />;
}
