import { Encabezado } from "../../componentes/comunes";

export default function CampanaDetalle() {
  return <Encabezado titulo="CampanaDetalle" />;
}
