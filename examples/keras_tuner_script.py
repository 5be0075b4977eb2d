"""A KerasTuner script run by automl: only the tuner line differs from KerasTuner's guide."""

import keras
import keras_tuner as kt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import automl


def build_model(hp):
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("num_layers", 1, 2)):
        model.add(
            keras.layers.Dense(
                hp.Int(f"units_{i}", min_value=16, max_value=64, step=16),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-3, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


if __name__ == "__main__":
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.2, random_state=0)

    # tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=3, ...)
    tuner = automl.Tuner(
        build_model,
        objective=kt.Objective("val_accuracy", direction="max"),
        max_trials=3,
        directory="tuning",
        project_name="digits",
        overwrite=True,
    )
    tuner.search_space_summary()
    tuner.search(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=8,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)],
    )
    best_model = tuner.get_best_models(num_models=2)[0]
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    print("best units_0:", best_hp.get("units_0"), "values:", best_hp.values)
    tuner.results_summary()
    print("report:", tuner.sweep.report())
