// A polite live region (a Streamlit custom component v2, in the page's own DOM): screen readers
// read its text when it changes. The page re-invokes this at every rerun; the text is written only
// when it differs, so a recognised artwork is announced once, not at every redraw of the page.
export default function ({ parentElement, data }) {
  let region = parentElement.querySelector(":scope > .sl-live");
  if (!region) {
    region = document.createElement("div");
    region.className = "sl-live";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-atomic", "true");
    parentElement.append(region);
  }
  const text = data.text || "";
  if (region.textContent !== text) region.textContent = text;
}
