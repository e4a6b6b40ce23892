"""The till's style sheet: large type and touch-sized controls, tones for status and errors."""

TILL_QSS = """
QWidget { font-size: 15px; }
QLabel#screenTitle { font-size: 26px; font-weight: 600; margin: 6px 0 10px 0; }
QLabel#dialogHeading { font-size: 18px; font-weight: 600; }
QLabel#grandTotal { font-size: 34px; font-weight: 700; color: #0b3d91; padding: 6px 0; }
QLabel#dueLabel { font-size: 22px; font-weight: 600; }
QLabel#changeBanner { font-size: 24px; font-weight: 700; color: #0d5c1f;
    background: #e3f6e6; border: 2px solid #2e9e47; border-radius: 8px; padding: 10px; }
QLabel#closeOutcome { font-size: 18px; font-weight: 600; background: #f5f7fb;
    border: 1px solid #d5dbe7; border-radius: 8px; padding: 10px; }
QLabel#customerLabel { color: #444; }
QLabel#hint { color: #666; font-size: 13px; }
QLabel[tone="error"] { color: #a4000f; background: #fde8ea; border: 1px solid #e07b86;
    border-radius: 6px; padding: 6px; font-weight: 600; }
QLabel[tone="info"] { color: #1f4f1f; background: #eef7ee; border-radius: 6px; padding: 6px; }
QLabel[tone="warn"] { color: #7a4a00; }
QLabel[tone="ok"] { color: #1c6b2a; }
QLabel#statusPill { padding: 2px 10px; font-weight: 600; }
QFrame#totalsPanel { background: #f5f7fb; border: 1px solid #d5dbe7; border-radius: 8px; }
QLineEdit { padding: 6px 10px; border: 1px solid #9aa5b8; border-radius: 6px; font-size: 17px; }
QLineEdit#searchEdit { font-size: 19px; }
QLineEdit#amountEdit { font-size: 28px; font-weight: 600; }
QPushButton { background: #eef1f6; border: 1px solid #b9c2d3; border-radius: 8px;
    padding: 4px 8px; font-size: 14px; }
QPushButton:pressed, QPushButton:checked { background: #cfe0ff; border-color: #3d6fd1; }
QPushButton:disabled { color: #9aa0aa; }
QPushButton#payButton { background: #2e9e47; color: white; font-weight: 700; font-size: 16px; }
QPushButton#primaryButton { background: #0b5cd5; color: white; font-weight: 700; }
QPushButton#keypadKey { font-size: 22px; }
QTableWidget#cartTable { font-size: 16px; }
/* Flat: Fusion's gradient scroll bar took ~2.5 ms to repaint (Qt splits the gradient fill across
   threads and waits for them), and once the cart scrolls it repaints on every scan. */
QTableWidget#cartTable QScrollBar:vertical { background: #eef1f6; width: 16px; margin: 0; }
QTableWidget#cartTable QScrollBar::handle:vertical { background: #b9c2d3; border-radius: 6px;
    min-height: 40px; margin: 2px; }
QTableWidget#cartTable QScrollBar::add-line:vertical,
QTableWidget#cartTable QScrollBar::sub-line:vertical { height: 0; }
QTableWidget#cartTable QScrollBar::add-page:vertical,
QTableWidget#cartTable QScrollBar::sub-page:vertical { background: none; }
QProgressBar { border: 1px solid #9aa5b8; border-radius: 6px; text-align: center; }
QProgressBar::chunk { background: #3d6fd1; }
"""
