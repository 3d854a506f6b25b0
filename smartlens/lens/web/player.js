// The lens' media player (a Streamlit custom component v2, mounted in the page's own DOM).
//
// One instance per artwork or detail: a named button that plays the museum's audio or video, or
// reads the text aloud with the browser's voice, a native media element with its controls (and
// captions for a video), and the audio's transcript. The page re-invokes this function at every
// rerun with the newest data: the elements are made once and kept, so playback goes on while the
// card around it is redrawn. Python is told "played" only when playback really started (the
// media element's `playing` event, the utterance's `start` event), never on the press alone.
export default function ({ parentElement, data, setTriggerValue }) {
  let root = parentElement.querySelector(":scope > .sl-media");
  if (!root) {
    root = build(parentElement);
  }
  root.slData = data;
  root.slReport = setTriggerValue; // the newest one: the listeners below read it when they fire
  update(root, data);
}

function build(parentElement) {
  const root = document.createElement("div");
  root.className = "sl-media";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "sl-media-button";
  const status = document.createElement("p");
  status.className = "sl-media-status";
  status.setAttribute("role", "status");
  root.append(button, status);
  parentElement.append(root);
  button.addEventListener("click", () => press(root));
  return root;
}

function update(root, data) {
  const button = root.querySelector(".sl-media-button");
  if (button.textContent !== data.label) button.textContent = data.label;
  if (data.kind === "speech") {
    removeMedia(root);
  } else {
    const media = mediaElement(root, data.kind);
    if (media.getAttribute("src") !== data.src) {
      media.setAttribute("src", data.src);
      media.hidden = true; // another file: shown again when it is played
    }
    media.setAttribute("aria-label", data.name);
    setTracks(media, data.tracks || []);
  }
  setTranscript(root, data);
}

function mediaElement(root, kind) {
  let media = root.querySelector("audio, video");
  if (media && media.localName !== kind) {
    media.remove();
    media = null;
  }
  if (!media) {
    media = document.createElement(kind);
    media.controls = true;
    media.preload = "none";
    media.hidden = true;
    media.setAttribute("playsinline", "");
    media.className = "sl-media-element";
    // a fresh start (from the top, or after the end) is a play worth counting; a resume is not
    media.addEventListener("play", () => {
      if (media.currentTime < 0.5 || media.ended) root.slArmed = true;
    });
    media.addEventListener("playing", () => {
      if (root.slArmed) {
        root.slArmed = false;
        root.slReport("played", root.slData.kind);
      }
    });
    media.addEventListener("error", () => say(root, root.slData.failed));
    root.querySelector(".sl-media-status").before(media);
  }
  return media;
}

function removeMedia(root) {
  const media = root.querySelector("audio, video");
  if (media) media.remove();
}

function setTracks(media, tracks) {
  const want = JSON.stringify(tracks);
  if (media.slTracks === want) return;
  media.slTracks = want;
  media.querySelectorAll("track").forEach((t) => t.remove());
  tracks.forEach((t, i) => {
    const track = document.createElement("track");
    track.kind = "captions";
    track.src = t.src;
    track.srclang = t.srclang;
    track.label = t.label;
    if (i === 0) track.default = true;
    media.append(track);
  });
}

function setTranscript(root, data) {
  let box = root.querySelector(":scope > details");
  if (!data.transcript) {
    if (box) box.remove();
    return;
  }
  if (!box) {
    box = document.createElement("details");
    box.className = "sl-transcript";
    box.append(document.createElement("summary"), document.createElement("p"));
    root.append(box);
  }
  // textContent, never innerHTML: the museum's words are shown as typed
  const [summary, text] = box.children;
  if (summary.textContent !== data.transcript_label) summary.textContent = data.transcript_label;
  if (text.textContent !== data.transcript) text.textContent = data.transcript;
}

function say(root, message) {
  const status = root.querySelector(".sl-media-status");
  if (status.textContent !== message) status.textContent = message || "";
}

function press(root) {
  const data = root.slData;
  say(root, "");
  if (data.kind === "speech") {
    speak(root, data);
    return;
  }
  const media = root.querySelector("audio, video");
  media.hidden = false;
  if (media.ended) media.currentTime = 0;
  const started = media.play();
  if (started && started.catch) started.catch(() => say(root, data.failed));
}

function speak(root, data) {
  const synth = window.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === "undefined") {
    say(root, data.failed);
    return;
  }
  const utterance = new SpeechSynthesisUtterance(data.text);
  utterance.lang = data.lang;
  utterance.addEventListener("start", () => root.slReport("played", "speech"));
  utterance.addEventListener("error", (e) => {
    if (e.error !== "interrupted" && e.error !== "canceled") say(root, data.failed);
  });
  synth.cancel();
  synth.speak(utterance);
}
