import { Encabezado } from "../../componentes/comunes";

export default function Webhooks() {
  return <Encabezado titulo="Webhooks" />;
}
