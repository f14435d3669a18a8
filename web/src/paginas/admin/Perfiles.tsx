import { Encabezado } from "../../componentes/comunes";

export default function Perfiles() {
  return <Encabezado titulo="Perfiles" />;
}
