import { Encabezado } from "../../componentes/comunes";

export default function Campanas() {
  return <Encabezado titulo="Campanas" />;
}
