// Highlights every piece of the claim named in the URL fragment (#C07): a claim's quote can be cut into
// several <mark>s where other claims overlap it, so CSS :target alone cannot reach them all.
"use strict";
function showTargetClaim() {
  const ident = decodeURIComponent(location.hash.slice(1));
  for (const mark of document.querySelectorAll("mark.targeted")) mark.classList.remove("targeted");
  if (!ident) return;
  const pieces = [...document.querySelectorAll("mark.claim")].filter(
    (mark) => mark.dataset.claims.split(" ").includes(ident));
  for (const mark of pieces) mark.classList.add("targeted");
  if (pieces.length) pieces[0].scrollIntoView({block: "center"});
}
window.addEventListener("hashchange", showTargetClaim);
showTargetClaim();
