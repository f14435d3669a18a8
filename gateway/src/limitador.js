// Node-wide connection rate limit: socket starts are granted one at a time, spaced with jitter.

/**
 * Grants turns in arrival order, never more than `porSegundo` per second: each grant waits at least
 * 1/porSegundo after the previous one, stretched by a random factor in [1, 1 + jitter] so that
 * sessions restarted together do not reach WhatsApp in lockstep. `reloj` and `dormir` are
 * injectable for tests.
 */
export class Limitador {
  constructor({ porSegundo = 2, jitter = 0.5, aleatorio = Math.random, reloj = () => Date.now(), alConceder = () => {} } = {}) {
    if (!(porSegundo > 0)) throw new Error('porSegundo debe ser positivo')
    this.intervaloMs = 1000 / porSegundo
    this.jitter = jitter
    this.aleatorio = aleatorio
    this.reloj = reloj
    this.alConceder = alConceder
    this.cola = []
    this.ultimo = -Infinity
    this.temporizador = null
    this.concedidos = 0
  }

  /** Resolves when this start may go ahead. `dueno` lets a dead worker's requests be dropped. */
  pedir(dueno = null, datos = {}) {
    return new Promise((resolver) => {
      this.cola.push({ resolver, dueno, datos })
      this.programar()
    })
  }

  /** Drop the queued requests of `dueno` (its process died): they will ask again when restarted. */
  descartar(dueno) {
    this.cola = this.cola.filter((p) => p.dueno !== dueno)
  }

  get pendientes() {
    return this.cola.length
  }

  programar() {
    if (this.temporizador || !this.cola.length) return
    const espera = Math.max(0, this.ultimo + this.intervaloMs * (1 + this.jitter * this.aleatorio()) - this.reloj())
    this.temporizador = setTimeout(() => {
      this.temporizador = null
      const turno = this.cola.shift()
      if (turno) {
        this.ultimo = this.reloj()
        this.concedidos += 1
        this.alConceder(turno.datos)
        turno.resolver()
      }
      this.programar()
    }, espera)
  }

  detener() {
    clearTimeout(this.temporizador)
    this.temporizador = null
    this.cola = []
  }
}
