from medical_telegram.cli import main
import sys
sys.exit(main())
