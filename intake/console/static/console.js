// The console's only script: GOV.UK Frontend and MoJ components, and the live queue.
// Everything else works without JavaScript.
import { initAll as initGovuk } from './govuk/govuk-frontend.min.js'
import { initAll as initMoj } from './moj/moj-frontend.min.js'

initGovuk()
initMoj()

const queue = document.getElementById('queue')
const announcer = document.getElementById('announcer')

function concernRefs (root) {
  return new Set([...root.querySelectorAll('[data-concern]')].map((row) => row.dataset.concern))
}

function chime () {
  // A short two-note cue, made here so no sound file is needed.
  try {
    const context = new AudioContext()
    ;[660, 880].forEach((pitch, i) => {
      const tone = context.createOscillator()
      const volume = context.createGain()
      tone.frequency.value = pitch
      volume.gain.value = 0.15
      tone.connect(volume).connect(context.destination)
      tone.start(context.currentTime + i * 0.18)
      tone.stop(context.currentTime + i * 0.18 + 0.15)
    })
  } catch (error) {
    // no audio in this browser: the announcement below still says it
  }
}

async function refresh () {
  const response = await fetch(window.location.href, { headers: { 'X-Live-Refresh': '1' } })
  if (!response.ok) return
  const page = new DOMParser().parseFromString(await response.text(), 'text/html')
  const fresh = page.getElementById('queue')
  if (!fresh) return
  const before = concernRefs(queue)
  const added = [...concernRefs(fresh)].filter((ref) => !before.has(ref))
  queue.replaceChildren(...fresh.childNodes)
  initMoj({ scope: queue }) // the new tables sort again
  if (added.length) {
    chime()
    announcer.textContent = added.length === 1
      ? `New safeguarding concern, reference ${added[0]}.`
      : `${added.length} new safeguarding concerns.`
  }
}

if (queue && queue.dataset.live) {
  const events = new EventSource(queue.dataset.live)
  let pending = null
  const soon = () => {
    clearTimeout(pending)
    pending = setTimeout(refresh, 200) // a burst of changes is one refresh
  }
  events.addEventListener('change', soon)
  // On (re)connecting, look once: something may have changed while the stream was not open.
  events.addEventListener('open', soon)
  events.addEventListener('end', () => events.close()) // signed out, or the server stopping
}

// "Print this page" buttons (a subject access result): the browser's own print dialog.
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print())
}
