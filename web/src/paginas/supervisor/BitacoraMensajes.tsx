import { Encabezado } from "../../componentes/comunes";

export default function BitacoraMensajes() {
  return <Encabezado titulo="BitacoraMensajes" />;
}
