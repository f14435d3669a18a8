import { Encabezado } from "../../componentes/comunes";

export default function Supresiones() {
  return <Encabezado titulo="Supresiones" />;
}
