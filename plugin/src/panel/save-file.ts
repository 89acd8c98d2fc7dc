/*
 * Hands a file to the browser's download, as Grafana's own "Download CSV" does: an object URL on
 * a temporary link, revoked once the click has been dispatched.
 */
export interface DownloadFile {
  name: string;
  type: string;
  text: string;
}

export function saveFile(file: DownloadFile): void {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // After the click's task: revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
