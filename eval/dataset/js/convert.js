// Convert uploaded documents to PDF with LibreOffice.
const { exec } = require("child_process");
const path = require("path");

function convertToPdf(uploadDir, fileName, callback) {
  const source = path.join(uploadDir, fileName);
  exec(`soffice --headless --convert-to pdf --outdir ${uploadDir} ${source}`, (error) => {
    callback(error, source.replace(/\.\w+$/, ".pdf"));
  });
}

module.exports = { convertToPdf };
