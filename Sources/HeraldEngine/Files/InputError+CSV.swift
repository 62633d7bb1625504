import HeraldCSV
import HeraldSettings

extension InputError {
    /// A CSV file's error as every reader of one reports it: the file and line, then what is wrong.
    init(_ error: CSVError) {
        self.init(file: error.path, line: error.line, error.descriptionWithoutPlace)
    }
}
