import { Encabezado } from "../../componentes/comunes";

export default function Graficas() {
  return <Encabezado titulo="Graficas" />;
}
